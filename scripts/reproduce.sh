#!/usr/bin/env bash
# The paper in miniature with VlmRm's own CLIP (docs/REPRODUCTION.md): every number and figure there comes from
# these commands. ≈ 1.5 hours on 2 cores; each step resumes or redoes only itself when run again.
#   scripts/reproduce.sh [step ...]   steps: cartpole gt mountaincar sizes figures reports dqn-study humanoid humanoid-sizes
#   (default: all but dqn-study, humanoid and humanoid-sizes; humanoid is the Table 1 miniature, ≈ 1 hour a run, 10 runs;
#   humanoid-sizes is Fig. 4 for kneeling, each width trained until its loss stops falling, hours for the large one)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
out=runs/reproduction
figures=docs/figures
model=VlmRm-S-32/envs-v2   # the classic tables and figures were measured with it; the reproduction sweeps name it too
default_model=VlmRm-S-32/envs-v4-plateau
assets="${VLMRM_ASSETS:-$root/../shared/assets/vlmrm}"   # the paper's textures and humanoid model
mkdir -p "$out" "$figures"
steps=("$@")
((${#steps[@]})) || steps=(cartpole gt mountaincar sizes figures reports)

for step in "${steps[@]}"; do
  case "$step" in
    cartpole)     # DQN from the paper's CartPole prompts, 3 seeds, through CLIP reward grains on the embedded cluster
      ./vlmrm run sweeps/reproduction-cartpole.yaml
      for seed in 0 1 2; do   # each run's result (highest training reward, the paper's selection), then its last checkpoint
        id="repro-cartpole.cartpole.VlmRm-S-32_envs-v2.a0.s$seed"
        ./vlmrm evaluate videos cartpole-dqn-clip-quick --run-id "$id" --runs runs/cluster --out "$out/cartpole-s$seed" --episodes 10
        ./vlmrm evaluate videos cartpole-dqn-clip-quick --run-id "$id" --runs runs/cluster --latest --out "$out/cartpole-s$seed-last" --episodes 10
      done ;;
    gt)           # the same DQN on the ground-truth reward, for the learning curves
      ./vlmrm run sweeps/cartpole-ground-truth.yaml ;;
    mountaincar)  # SAC from the paper's textured-MountainCar prompts, α ∈ {0, 0.5, 1} × 3 seeds
      ./vlmrm run sweeps/reproduction-mountaincar.yaml
      for alpha in 0 0.5 1; do
        for seed in 0 1 2; do   # each run's result: its checkpoint with the highest training reward
          id="repro-mountaincar.mountaincar-textured.VlmRm-S-32_envs-v2.a$alpha.s$seed"
          ./vlmrm evaluate videos mountaincar-sac-clip-quick --run-id "$id" --runs runs/cluster --out "$out/mountaincar-a$alpha-s$seed" --episodes 10
        done
      done ;;
    sizes)        # the size sweep (paper section 4.4): four widths, the same recipe cut to 600 steps of 64 pairs
      for size in tiny small medium large; do
        ./vlmrm clip train --size "$size" --name "VlmRm-${size^^}-sweep/envs-v2" --steps 600 --batch 64 --models "$out/size-models" --work "$out/size-work"
      done ;;
    figures)
      for env in CartPole MountainCarTextured; do
        [ -d "$out/sets/$env" ] || ./vlmrm evaluate make-set "$env" --out "$out/sets/$env" --count 500
        ./vlmrm evaluate landscape "$env" --model "$model" --alphas 0,0.5,1 --out "$figures/landscape-$env.png"
        ./vlmrm evaluate epic --set "$out/sets/$env" --model "$model" --alpha 0.5 --histogram "$figures/histogram-$env.png"
        ./vlmrm evaluate epic-vs-size --set "$out/sets/$env" --models "$out/size-models" --alphas 0,0.5,1 --out "$figures/epic-vs-size-$env.png"
      done
      # the default model on the paper's own MountainCar textures (issue 26: a landscape that peaks at the flag)
      ./vlmrm evaluate landscape MountainCarTextured --model "$default_model" --assets "$assets" \
        --alphas 0,0.5,1 --out "$figures/landscape-MountainCarTextured-paper-textures.png"
      # learning curves on the ground truth: CartPole from the sentence against the ground-truth reward, and
      # textured MountainCar for each α
      mapfile -t cartpole < <(ls runs/cluster/tensorboard | grep -E '^(repro-cartpole|cartpole-gt)\.')
      ./vlmrm evaluate curves "${cartpole[@]}" --runs runs/cluster --out "$figures/curves-cartpole.png"
      mapfile -t mountaincar < <(ls runs/cluster/tensorboard | grep -E '^repro-mountaincar\.')
      ./vlmrm evaluate curves "${mountaincar[@]}" --runs runs/cluster --tag rollout/success_rate --out "$figures/curves-mountaincar.png" ;;
    reports)      # each reproduction sweep as an HTML page that opens from disk (runs, videos, curves, EPIC figures)
      for sweep in reproduction-cartpole reproduction-mountaincar; do
        ./vlmrm report "sweeps/$sweep.yaml" --out "$out/report-$sweep" --episodes 10
      done ;;
    dqn-study)    # why DQN forgot CartPole (docs/RL.md, "Learning that holds"): rl-zoo's settings (target_update_interval 10)
                  # at 100k steps on the ground truth, then one change at a time, 3 seeds each (≈ 1 min a run alone)
      study=runs/dqn-study
      mkdir -p "$study/presets"
      sed -e 's/^total_timesteps: .*/total_timesteps: 100000/' -e 's/^  target_update_interval: .*/  target_update_interval: 10/' \
          -e 's/^  exploration_final_eps: .*/  exploration_final_eps: 0.04/' -e '/^  double_q:/d' presets/cartpole-dqn-quick.yaml > "$study/presets/rl-zoo.yaml"
      variant() { local name=$1; shift; sed "$@" "$study/presets/rl-zoo.yaml" > "$study/presets/$name.yaml"; }
      variant double-dqn -e 's/^dqn:$/dqn:\n  double_q: true/'
      variant constant-lr -e 's/learning_rate_schedule: linear/learning_rate_schedule: constant/'
      variant exploration-0.1 -e 's/exploration_final_eps: .*/exploration_final_eps: 0.1/'
      variant buffer-10k -e 's/buffer_size: .*/buffer_size: 10000/'
      variant terminating -e 's/^env: CartPole$/env: CartPole-v1/' -e '/^episode_length:/d'
      variant target-1000 -e 's/target_update_interval: .*/target_update_interval: 1000/'
      variant target-2000 -e 's/target_update_interval: .*/target_update_interval: 2000/'
      variant target-1000-double -e 's/target_update_interval: .*/target_update_interval: 1000/' -e 's/^dqn:$/dqn:\n  double_q: true/'
      variant target-1000-exploration-0.01 -e 's/target_update_interval: .*/target_update_interval: 1000/' -e 's/exploration_final_eps: .*/exploration_final_eps: 0.01/'
      variant target-2000-exploration-0.01 -e 's/target_update_interval: .*/target_update_interval: 2000/' -e 's/exploration_final_eps: .*/exploration_final_eps: 0.01/'
      sed -e 's/^total_timesteps: .*/total_timesteps: 100000/' presets/cartpole-dqn-quick.yaml > "$study/presets/shipped.yaml"
      variants=(rl-zoo double-dqn constant-lr exploration-0.1 buffer-10k terminating target-1000 target-2000 target-1000-double target-1000-exploration-0.01
                target-2000-exploration-0.01 shipped)
      for v in "${variants[@]}"; do
        for seed in 0 1 2; do
          [ -d "$study/$v-s$seed" ] || ./vlmrm train "$study/presets/$v.yaml" --seed "$seed" --runs "$study" --run-id "$v-s$seed" --quiet
        done
      done
      mkdir -p "$figures/dqn-study"
      for v in "${variants[@]}"; do   # per variant: whether each seed held 95% success from first reaching it, and its Q-values
        ./vlmrm evaluate curves "$v-s0" "$v-s1" "$v-s2" --runs "$study" --tag rollout/success_rate --hold 0.95 --out "$figures/dqn-study/success-$v.png"
        ./vlmrm evaluate curves "$v-s0" "$v-s1" "$v-s2" --runs "$study" --tag train/q_mean --out "$figures/dqn-study/q-$v.png"
      done
      ./vlmrm evaluate curves rl-zoo-s0 rl-zoo-s1 rl-zoo-s2 shipped-s0 shipped-s1 shipped-s2 --runs "$study" --tag rollout/success_rate --out "$figures/dqn-study-success.png"
      ./vlmrm evaluate curves rl-zoo-s0 rl-zoo-s1 rl-zoo-s2 shipped-s0 shipped-s1 shipped-s2 --runs "$study" --tag train/q_mean --out "$figures/dqn-study-q.png" ;;
    humanoid)     # Table 1 in miniature (docs/REPRODUCTION.md, "Humanoid"): presets/humanoid-sac-mini.yaml with the paper's
                  # textured humanoid; kneeling × 3 seeds, then three more tasks × 1 seed; each run's best checkpoint as
                  # MP4s and a review set for the labelling page; the eight prompts' EPIC; kneeling's EPIC histogram
      [ -f "$assets/humanoid_textured.xml" ] || { echo "reproduce humanoid: no humanoid_textured.xml in $assets (set VLMRM_ASSETS to the paper's assets)" >&2; exit 2; }
      humanoid="$out/humanoid"
      mkdir -p "$humanoid/presets"
      humanoid_run() {  # task success_pose goal seed [reward model] [total steps]; either left out: the preset's
        local preset="$humanoid/presets/$1.yaml" model_edit=(${5:+-e "s|^  model: .*|  model: $5|"}) steps=(${6:+--steps "$6"})
        sed -e "s|^  success_pose: .*|  success_pose: $2\n  assets_directory: $assets|" -e "s|^  goal: .*|  goal: [\"$3\"]|" \
          "${model_edit[@]}" presets/humanoid-sac-mini.yaml > "$preset"
        ./vlmrm train "$preset" --seed "$4" "${steps[@]}" --runs "$humanoid" --run-id "$1-s$4" --quiet
        ./vlmrm evaluate videos "$preset" --run-id "$1-s$4" --runs "$humanoid" --out "$humanoid/videos/$1-s$4" --episodes 10 \
          --stride 10 --task "$3" --with-reward
      }
      for seed in 0 1 2; do humanoid_run kneeling kneeling "a humanoid robot kneeling" "$seed"; done
      humanoid_run standing standing "a humanoid robot standing up" 0
      humanoid_run lotus lotus_position "a humanoid robot seated down, meditating in the lotus position" 0
      humanoid_run arms-raised arms_raised "a humanoid robot standing up, with both arms raised" 0
      # the same tasks rewarded by the locked ImageNet tower, whose optimum is the task's posture (near misses)
      for seed in 0 1 2; do humanoid_run kneeling-resnet18 kneeling "a humanoid robot kneeling" "$seed" VlmRm-ResNet18-MiniLM/envs-v4; done
      humanoid_run arms-raised-resnet18 arms_raised "a humanoid robot standing up, with both arms raised" 0 VlmRm-ResNet18-MiniLM/envs-v4 160000
      ./vlmrm evaluate paper-prompts --model VlmRm-S-32/envs-v4 --env Humanoid --assets "$assets" --csv "$humanoid/paper-prompts.csv"
      [ -d "$humanoid/sets/kneeling" ] || ./vlmrm evaluate make-set Humanoid --task kneeling --assets "$assets" --out "$humanoid/sets/kneeling" --count 400
      ./vlmrm evaluate epic --set "$humanoid/sets/kneeling" --model VlmRm-S-32/envs-v4 --alpha 0 --histogram "$figures/histogram-humanoid-kneeling.png"
      ./vlmrm evaluate curves kneeling-s0 kneeling-s1 kneeling-s2 standing-s0 lotus-s0 arms-raised-s0 --runs "$humanoid" --tag reward/labelled_mean --out "$figures/curves-humanoid-clip.png" ;;
    humanoid-sizes)  # Fig. 4 for "a humanoid robot kneeling": the envs-v4 recipe at each width, each trained until its loss
                     # stops falling (--until-plateau), scored on 400 labelled kneeling states
      sizes="$out/humanoid-sizes"
      to_plateau=(--until-plateau --steps 12000 --batch 128 --assets "$assets" --humanoid-pool 2000 --models "$sizes/models" --work "$sizes/work")
      widths=()
      for size in tiny small medium large; do
        widths+=("VlmRm-${size^^}-plateau/envs-v4")
        ./vlmrm clip train --size "$size" --name "${widths[-1]}" "${to_plateau[@]}"
      done
      # seeds 1 to 4 of the two smallest widths: how far the training run alone moves a point, and whether the widths differ by more
      seeds=()
      for size in tiny small; do
        for seed in 1 2 3 4; do
          seeds+=("VlmRm-${size^^}-seed$seed-plateau/envs-v4")
          ./vlmrm clip train --size "$size" --name "${seeds[-1]}" --seed "$seed" "${to_plateau[@]}"
        done
      done
      [ -d "$sizes/sets/kneeling" ] || ./vlmrm evaluate make-set Humanoid --task kneeling --assets "$assets" --out "$sizes/sets/kneeling" --count 400
      ./vlmrm evaluate epic-vs-size --set "$sizes/sets/kneeling" --models "$sizes/models" --model-names "${widths[@]}" --alphas 0,0.5,1 \
        --out "$figures/epic-vs-size-humanoid-kneeling.png"
      ./vlmrm evaluate epic-vs-size --set "$sizes/sets/kneeling" --models "$sizes/models" --alphas 0,0.5,1 \
        --model-names "${widths[@]:0:3}" VlmRm-SMALL-seed1-plateau/envs-v4 --out "$figures/epic-vs-size-humanoid-kneeling-two-small-seeds.png"
      ./vlmrm evaluate epic-vs-size --set "$sizes/sets/kneeling" --models "$sizes/models" --alphas 0,0.5,1 \
        --model-names "${widths[@]:0:2}" "${seeds[@]}" --out "$figures/epic-vs-size-humanoid-kneeling-seeds.png" ;;
    *) echo "reproduce: unknown step '$step' (steps: cartpole gt mountaincar sizes figures reports dqn-study humanoid humanoid-sizes)" >&2; exit 2 ;;
  esac
done
