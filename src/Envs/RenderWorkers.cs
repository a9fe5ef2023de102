using System.Collections.Concurrent;

namespace VlmRm.Envs;

/// <summary>
/// A fixed set of long-lived threads for rendering. OpenGL contexts belong to the thread that made them
/// current, so rendering work must land on the same threads every call: item i always goes to worker
/// i mod N (pool threads would change from call to call and force new contexts each time).
/// </summary>
public sealed class RenderWorkers
{
    private static readonly ConcurrentDictionary<int, RenderWorkers> Shared = new();

    private readonly BlockingCollection<Action>[] _queues;

    private RenderWorkers(int count)
    {
        _queues = new BlockingCollection<Action>[count];
        for (var w = 0; w < count; w++)
        {
            var queue = _queues[w] = new BlockingCollection<Action>();
            var thread = new Thread(() =>
            {
                foreach (var work in queue.GetConsumingEnumerable()) work();
            })
            {
                IsBackground = true,
                Name = $"vlmrm-render-{w + 1}/{count}",
            };
            thread.Start();
        }
    }

    public int Count => _queues.Length;

    /// <summary>The process-wide pool of <paramref name="count"/> render threads.</summary>
    public static RenderWorkers WithThreads(int count) => Shared.GetOrAdd(Math.Max(1, count), n => new RenderWorkers(n));

    /// <summary>Runs work(i) for i in [0, items) on the workers (i on worker i mod Count) and waits for all of it.</summary>
    public void Run(int items, Action<int> work)
    {
        using var done = new CountdownEvent(Count);
        var failures = new ConcurrentQueue<Exception>();
        for (var w = 0; w < Count; w++)
        {
            var worker = w;
            _queues[w].Add(() =>
            {
                try
                {
                    for (var i = worker; i < items; i += Count) work(i);
                }
                catch (Exception e)
                {
                    failures.Enqueue(e);
                }
                finally
                {
                    done.Signal();
                }
            });
        }
        done.Wait();
        if (!failures.IsEmpty) throw new AggregateException("Rendering failed on a render thread.", failures);
    }
}
