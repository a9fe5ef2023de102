using System.Diagnostics;

namespace VlmRm.Bench;

/// <summary>Throughput measurement: warm up by time (tiered JIT promotes code after a delay), then take the median of several timed runs.</summary>
internal static class Measure
{
    public static double OperationsPerSecond(Action operation, double seconds = 0.6, int repeats = 3)
    {
        var warmUp = Stopwatch.StartNew();
        while (warmUp.Elapsed.TotalSeconds < 0.4) operation();
        var rates = new double[repeats];
        for (var r = 0; r < repeats; r++)
        {
            long count = 0;
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed.TotalSeconds < seconds)
            {
                operation();
                count++;
            }
            rates[r] = count / clock.Elapsed.TotalSeconds;
        }
        Array.Sort(rates);
        return rates[repeats / 2];
    }
}
