using Microsoft.Extensions.Logging;
using VlmRm.Abstractions;
using VlmRm.Clip.Reward;
using VlmRm.Evaluation;
using VlmRm.Evaluation.Epic;
using VlmRm.Evaluation.LabelledSets;

namespace VlmRm.Grains;

[GenerateSerializer]
public sealed class EvaluatorState
{
    [Id(0)] public EpicJob? Job { get; set; }
    [Id(1)] public RunState State { get; set; } = RunState.Queued;
    [Id(2)] public List<EpicResult> Results { get; set; } = [];
    [Id(3)] public string? Error { get; set; }
}

/// <summary>
/// Schedules an EPIC job over the evaluation library: the set's frames are embedded once per model (the
/// embedding cache beside the set keeps them for later jobs), then each α costs a text pass only. Results
/// are persisted as each model finishes; a job interrupted by its silo's death restarts on reactivation.
/// </summary>
public sealed class EvaluatorGrain(
    [PersistentState("evaluator", SiloBuilderExtensions.StorageName)] IPersistentState<EvaluatorState> state,
    ClipModelCache models,
    ILocalSiloDetails silo,
    ILogger<EvaluatorGrain> logger) : Grain, IEvaluatorGrain
{
    private Task? _work;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (state.RecordExists && state.State.State == RunState.Running) Start();
        return Task.CompletedTask;
    }

    public async Task<EpicJobStatus> SubmitAsync(EpicJob job)
    {
        if (state.State.Job is not null) return Status();
        if (job.Models.Length == 0 || job.Alphas.Length == 0) throw new ArgumentException("An EPIC job names at least one model and one α.");
        if (job.Alphas.Any(a => a is < 0 or > 1 || !float.IsFinite(a))) throw new ArgumentException($"α must lie in [0, 1]; got {string.Join(", ", job.Alphas)}.");
        state.State.Job = job;
        state.State.State = RunState.Running;
        await state.WriteStateAsync();
        Start();
        return Status();
    }

    public Task<EpicJobStatus> GetStatusAsync() => Task.FromResult(Status());

    private EpicJobStatus Status()
    {
        var s = state.State;
        return new EpicJobStatus(this.GetPrimaryKeyString(), s.State, [.. s.Results], (s.Job?.Models.Length ?? 0) * (s.Job?.Alphas.Length ?? 0), s.Error, silo.SiloAddress.ToString());
    }

    private void Start() => _work ??= RunAsync(state.State.Job!);

    private async Task RunAsync(EpicJob job)
    {
        try
        {
            var set = LabelledSet.Load(job.LabelledSet);
            var prompts = job.Goal.Length > 0
                ? new RewardPrompts(job.Goal, job.Baseline)
                : TaskPrompts.For(set.Manifest.Env, set.Manifest.Task) ?? throw new ArgumentException($"No default prompts for {set.Manifest.Env}; give goal and baseline prompts.");
            var labels = set.Labels();
            foreach (var name in job.Models.Where(m => state.State.Results.All(r => r.Model != m)))
            {
                // Embedding a set takes seconds to minutes: off the grain's scheduler.
                var results = await Task.Run(() =>
                {
                    var model = models.Model(name);
                    var embeddings = EmbeddingCache.GetOrCompute(set, model);
                    var reward = new ClipRewardModel(model, prompts, job.Alphas[0]);
                    return job.Alphas.Select(alpha =>
                    {
                        var score = PromptScreening.Score(new PromptCandidate(string.Join(" | ", prompts.Goal), string.Join(" | ", prompts.Baseline), alpha), reward.WithAlpha(alpha), embeddings, labels);
                        return new EpicResult(name, alpha, score.Epic, score.MeanGoalReward, score.MeanNonGoalReward, set.Count, set.GoalCount);
                    }).ToList();
                });
                state.State.Results.AddRange(results);
                await state.WriteStateAsync();
            }
            state.State.State = RunState.Done;
        }
        catch (Exception e)
        {
            logger.LogError(e, "EPIC job {Job} failed", this.GetPrimaryKeyString());
            state.State.State = RunState.Failed;
            state.State.Error = e.Message;
        }
        await state.WriteStateAsync();
    }
}
