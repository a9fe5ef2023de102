namespace VlmRm.Abstractions;

/// <summary>The names of every sweep submitted to the cluster (one instance, key <see cref="Key"/>), for <c>vlmrm runs</c>.</summary>
public interface ISweepIndexGrain : IGrainWithStringKey
{
    public const string Key = "all";

    Task AddAsync(string sweep);

    Task<IReadOnlyList<string>> GetSweepsAsync();
}
