namespace VlmRm.Rl;

/// <summary>
/// Rolling statistics over the last N finished episodes (SB3's ep_info_buffer), saved in checkpoints.
/// Thread-safe: a cluster reads progress while the training thread adds episodes.
/// </summary>
public sealed class EpisodeStatistics(int window)
{
    private readonly Queue<(double GroundTruthReturn, bool Success, int Length)> _episodes = new();
    private readonly Queue<double> _labelledReturns = new();
    private readonly Lock _lock = new();

    public long EpisodesFinished { get; private set; }

    public void AddEpisode(double groundTruthReturn, bool success, int length)
    {
        lock (_lock)
        {
            Enqueue(_episodes, (groundTruthReturn, success, length));
            EpisodesFinished++;
        }
    }

    /// <summary>An episode's return under the labeller's reward, known once all its transitions are labelled.</summary>
    public void AddLabelledReturn(double labelledReturn)
    {
        lock (_lock) Enqueue(_labelledReturns, labelledReturn);
    }

    /// <summary>Forgets the labelled returns: they were measured under a reward the run no longer trains on.</summary>
    public void ClearLabelledReturns()
    {
        lock (_lock) _labelledReturns.Clear();
    }

    public double MeanGroundTruthReturn => Mean(_episodes, e => e.GroundTruthReturn);
    public double SuccessRate => Mean(_episodes, e => e.Success ? 1.0 : 0.0);
    public double MeanLength => Mean(_episodes, e => e.Length);

    /// <summary>The training reward of the paper's checkpoint selection.</summary>
    public double MeanLabelledReturn => Mean(_labelledReturns, r => r);

    private double Mean<T>(Queue<T> queue, Func<T, double> value)
    {
        lock (_lock) return queue.Count == 0 ? double.NaN : queue.Average(value);
    }

    public void Save(BinaryWriter writer)
    {
        lock (_lock) SaveLocked(writer);
    }

    private void SaveLocked(BinaryWriter writer)
    {
        writer.Write(EpisodesFinished);
        writer.Write(_episodes.Count);
        foreach (var (r, s, l) in _episodes)
        {
            writer.Write(r);
            writer.Write(s);
            writer.Write(l);
        }
        writer.Write(_labelledReturns.Count);
        foreach (var r in _labelledReturns) writer.Write(r);
    }

    public void Load(BinaryReader reader)
    {
        lock (_lock) LoadLocked(reader);
    }

    private void LoadLocked(BinaryReader reader)
    {
        EpisodesFinished = reader.ReadInt64();
        _episodes.Clear();
        for (var n = reader.ReadInt32(); n > 0; n--) _episodes.Enqueue((reader.ReadDouble(), reader.ReadBoolean(), reader.ReadInt32()));
        _labelledReturns.Clear();
        for (var n = reader.ReadInt32(); n > 0; n--) _labelledReturns.Enqueue(reader.ReadDouble());
    }

    private void Enqueue<T>(Queue<T> queue, T item)
    {
        queue.Enqueue(item);
        while (queue.Count > window) queue.Dequeue();
    }
}
