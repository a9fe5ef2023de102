using VlmRm.Clip.Models;
using VlmRm.Envs;
using VlmRm.Envs.ClassicControl;
using VlmRm.Evaluation.Epic;

namespace VlmRm.Evaluation.LabelledSets;

/// <summary>
/// States of the classic-control tasks as the paper evaluates them (appendix A: "a uniform distribution over
/// states for the toy RL environments"): sampling, the ground-truth goal predicate and reward, the coordinate
/// the reward landscape is plotted against (paper Fig. 2), and rendering an arbitrary state.
/// </summary>
public sealed class ClassicControlStates : IDisposable
{
    /// <summary>CartPole poles are sampled within ±90° of upright: beyond that the pole points into the track.</summary>
    public const double CartPoleMaxAngle = Math.PI / 2;

    private readonly IEnv _env;

    public ClassicControlStates(string envId, EnvOptions? options = null)
    {
        _env = EnvRegistry.Make(envId, options);
        if (_env is not (CartPoleEnv or MountainCarContinuousEnv))
        {
            _env.Dispose();
            throw new ArgumentException($"Environment '{envId}' has no uniform state sampler: labelled sets of classic-control states exist for CartPole and MountainCar ids; Humanoid sets are made with --task (posed and random-policy states) or from checkpoint rollouts.");
        }
    }

    /// <summary>The environment ids with a uniform state sampler (the classic-control tasks).</summary>
    public static bool Supports(string envId) => envId is "CartPole" or "MountainCar" or "MountainCarTextured";

    public EnvSpec Spec => _env.Spec;
    public int StateSize => _env is CartPoleEnv ? 4 : 2;
    public int ActionSize => Spec.ActionSize;
    public bool IsCartPole => _env is CartPoleEnv;

    /// <summary>Name and unit of <see cref="LandscapeCoordinate"/>.</summary>
    public string LandscapeAxis => IsCartPole ? "pole angle θ (degrees from upright; cart centred)" : "car position x (Gymnasium's track units; the flag at 0.45)";

    /// <summary>Where <see cref="LandscapeCoordinate"/> satisfies the goal predicate: |θ| ≤ 12°, or x ≥ 0.45.</summary>
    public (double From, double To) GoalRegion => IsCartPole
        ? (-CartPoleEnv.ThetaThresholdRadians * 180 / Math.PI, CartPoleEnv.ThetaThresholdRadians * 180 / Math.PI)
        : (MountainCarContinuousEnv.GoalPosition, MountainCarContinuousEnv.MaxPosition);

    /// <summary>Uniform over what the frame shows (the whole scene): CartPole x ∈ ±2.4, θ ∈ ±90°, velocities ±2; MountainCar x ∈ [−1.2, 0.6], v ∈ ±0.07.</summary>
    public void SampleState(Rng rng, Span<float> state)
    {
        if (IsCartPole)
        {
            state[0] = (float)rng.Uniform(-CartPoleEnv.XThreshold, CartPoleEnv.XThreshold);
            state[1] = (float)rng.Uniform(-2, 2);
            state[2] = (float)rng.Uniform(-CartPoleMaxAngle, CartPoleMaxAngle);
            state[3] = (float)rng.Uniform(-2, 2);
        }
        else
        {
            state[0] = (float)rng.Uniform(MountainCarContinuousEnv.MinPosition, MountainCarContinuousEnv.MaxPosition);
            state[1] = (float)rng.Uniform(-MountainCarContinuousEnv.MaxSpeed, MountainCarContinuousEnv.MaxSpeed);
        }
    }

    /// <summary><paramref name="count"/> states drawn by <see cref="SampleState"/> (count × StateSize) and their goal labels.</summary>
    public (float[] States, bool[] IsGoal) SampleStates(int count, Rng rng)
    {
        var states = new float[count * StateSize];
        var isGoal = new bool[count];
        for (var i = 0; i < count; i++)
        {
            var state = states.AsSpan(i * StateSize, StateSize);
            SampleState(rng, state);
            isGoal[i] = IsGoal(state);
        }
        return (states, isGoal);
    }

    public void SampleAction(Rng rng, Span<float> action) =>
        action[0] = IsCartPole ? rng.NextInt(2) : (float)rng.Uniform(MountainCarContinuousEnv.MinAction, MountainCarContinuousEnv.MaxAction);

    /// <summary>
    /// States on a grid of the landscape coordinate with everything else neutral: CartPole angles over ±90°
    /// with the cart centred, MountainCar positions over the track at rest.
    /// </summary>
    public float[] LandscapeStates(int points)
    {
        if (points < 2) throw new ArgumentOutOfRangeException(nameof(points), points, "A landscape needs at least 2 points.");
        var states = new float[points * StateSize];
        for (var i = 0; i < points; i++)
        {
            var t = i / (double)(points - 1);
            if (IsCartPole) states[i * 4 + 2] = (float)(-CartPoleMaxAngle + 2 * CartPoleMaxAngle * t);
            else states[i * 2] = (float)(MountainCarContinuousEnv.MinPosition + (MountainCarContinuousEnv.MaxPosition - MountainCarContinuousEnv.MinPosition) * t);
        }
        return states;
    }

    public double LandscapeCoordinate(ReadOnlySpan<float> state) => IsCartPole ? state[2] * 180 / Math.PI : state[0];

    /// <summary>
    /// The goal as a frame shows it, which is what a reward model is asked about: the pole upright (CartPole), the car at
    /// the flag, x ≥ 0.45 (MountainCar). The environment's own success also asks MountainCar's velocity to be ≥ 0
    /// (Gymnasium's goal), which no still frame shows: labelled by it, half the uniformly drawn states at the flag would
    /// be non-goal frames that look exactly like goal ones, and EPIC would partly measure that label noise.
    /// </summary>
    public bool IsGoal(ReadOnlySpan<float> state) => IsCartPole
        ? CartPoleEnv.IsUpright(new CartPoleState(state[0], state[1], state[2], state[3]))
        : state[0] >= MountainCarContinuousEnv.GoalPosition;

    public string GoalPredicate => IsCartPole ? "predicate:pole-upright" : "predicate:car-at-flag";

    public void Render(ReadOnlySpan<float> state, Span<byte> rgb)
    {
        switch (_env)
        {
            case CartPoleEnv cartPole:
                cartPole.State = new CartPoleState(state[0], state[1], state[2], state[3]);
                break;
            case MountainCarContinuousEnv mountainCar:
                mountainCar.State = new MountainCarState(state[0], state[1]);
                break;
        }
        _env.Render(rgb);
    }

    /// <summary>CLIP image embeddings (count × EmbedDim) of the given states, rendered at this sampler's frame size.</summary>
    public float[] EmbedStates(ReadOnlySpan<float> states, OnnxClipModel model)
    {
        var count = states.Length / StateSize;
        var frameBytes = Spec.FrameBytes;
        var frames = new byte[count * frameBytes];
        for (var i = 0; i < count; i++) Render(states.Slice(i * StateSize, StateSize), frames.AsSpan(i * frameBytes, frameBytes));
        var embeddings = new float[count * model.EmbedDim];
        model.EmbedImages(frames, count, Spec.RenderHeight, Spec.RenderWidth, embeddings);
        return embeddings;
    }

    /// <summary>
    /// The task's ground-truth reward as a function of (s, a, s'), the paper's modified rewards: CartPole 1 while
    /// the pole is upright in s', −1 otherwise; MountainCar 1 at the goal, else −0.1·a² (the control cost).
    /// </summary>
    public TransitionReward GroundTruthReward()
    {
        var stateSize = StateSize;
        var isCartPole = IsCartPole;
        return (_, actions, nextStates, rewards) =>
        {
            for (var i = 0; i < rewards.Length; i++)
            {
                var next = nextStates.Slice(i * stateSize, stateSize);
                if (isCartPole)
                {
                    rewards[i] = CartPoleEnv.IsUpright(new CartPoleState(next[0], next[1], next[2], next[3])) ? 1 : -1;
                }
                else
                {
                    var a = actions[i];
                    rewards[i] = MountainCarContinuousEnv.IsAtGoal(new MountainCarState(next[0], next[1])) ? 1 : -0.1 * a * a;
                }
            }
        };
    }

    /// <summary>An EPIC sample: transitions and canonicalization triples drawn independently from the uniform state distribution.</summary>
    public EpicSample SampleTransitions(int transitions, int canonicalSamples, Rng rng)
    {
        float[] States(int n)
        {
            var values = new float[n * StateSize];
            for (var i = 0; i < n; i++) SampleState(rng, values.AsSpan(i * StateSize, StateSize));
            return values;
        }
        float[] Actions(int n)
        {
            var values = new float[n * ActionSize];
            for (var i = 0; i < n; i++) SampleAction(rng, values.AsSpan(i * ActionSize, ActionSize));
            return values;
        }
        return new EpicSample(StateSize, ActionSize, States(transitions), Actions(transitions), States(transitions),
            States(canonicalSamples), Actions(canonicalSamples), States(canonicalSamples));
    }

    public void Dispose() => _env.Dispose();
}
