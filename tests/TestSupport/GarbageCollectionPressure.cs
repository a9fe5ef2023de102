namespace VlmRm.TestSupport;

/// <summary>
/// Collects garbage and runs finalizers without pause on a thread of its own until disposed: a busy silo's other
/// grains at their worst, for code whose native calls must survive a collection at any moment. (Gen-0 collections
/// alone, or a pause between collections, did not expose the Scalar race of HeldScalars in 20 s.) It slows the whole
/// process: tests that use it belong to the non-parallel collection named <see cref="Collection"/>.
/// </summary>
public sealed class GarbageCollectionPressure : IDisposable
{
    /// <summary>Name of the collection, defined in each test assembly with parallelization disabled.</summary>
    public const string Collection = "garbage collection pressure";

    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _collector;

    public GarbageCollectionPressure()
    {
        _collector = new Thread(() =>
        {
            while (!_stop.IsCancellationRequested)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                Collections++;
            }
        }) { IsBackground = true, Name = "garbage collection pressure" };
        _collector.Start();
    }

    /// <summary>Collections done so far: proof the pressure was on.</summary>
    public long Collections { get; private set; }

    public void Dispose()
    {
        _stop.Cancel();
        _collector.Join();
        _stop.Dispose();
    }
}

