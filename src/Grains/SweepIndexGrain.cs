using VlmRm.Abstractions;

namespace VlmRm.Grains;

[GenerateSerializer]
public sealed class SweepIndexState
{
    [Id(0)] public List<string> Sweeps { get; set; } = [];
}

/// <summary>Persisted list of sweep names, in submission order.</summary>
public sealed class SweepIndexGrain(
    [PersistentState("sweeps", SiloBuilderExtensions.StorageName)] IPersistentState<SweepIndexState> state) : Grain, ISweepIndexGrain
{
    public async Task AddAsync(string sweep)
    {
        if (state.State.Sweeps.Contains(sweep)) return;
        state.State.Sweeps.Add(sweep);
        await state.WriteStateAsync();
    }

    public Task<IReadOnlyList<string>> GetSweepsAsync() => Task.FromResult<IReadOnlyList<string>>([.. state.State.Sweeps]);
}
