using System.Globalization;
using System.Text.RegularExpressions;

namespace VlmRm.Bench;

/// <summary>
/// This machine's arithmetic peaks from /proc/cpuinfo: cores × vector lanes × 2 (a fused multiply-add is two
/// operations) × FMA units per core × clock. Two 512-bit FMA units per core is assumed (Xeon Skylake-SP and later
/// Gold/Platinum; some Silver/Bronze parts have one), and the clock is the one cpuinfo reports, not turbo.
/// </summary>
internal sealed partial record CpuPeak(int Cores, double Gigahertz, int Fp32Lanes, int Int8Lanes, string Vector, bool Vnni)
{
    public const int FmaUnits = 2;

    public double Fp32Gflops => Cores * Fp32Lanes * 2.0 * FmaUnits * Gigahertz;

    /// <summary>int8 multiply-adds (VPDPBUSD: 4 byte products summed into each 32-bit lane) as operations per second; 0 without VNNI.</summary>
    public double Int8Gops => Vnni ? Cores * Int8Lanes * 2.0 * FmaUnits * Gigahertz : 0;

    public string Fp32Formula => $"{Cores} cores × {Fp32Lanes} fp32 lanes ({Vector}) × 2 × {FmaUnits} FMA units × {Gigahertz:F2} GHz = {Fp32Gflops:F0} GFLOP/s";

    public string Int8Formula => Vnni
        ? $"{Cores} cores × {Int8Lanes} int8 lanes ({Vector} VNNI) × 2 × {FmaUnits} units × {Gigahertz:F2} GHz = {Int8Gops:F0} GOP/s"
        : "no VNNI on this CPU: int8 runs without its dot-product instructions";

    public static CpuPeak? Read()
    {
        if (!File.Exists("/proc/cpuinfo")) return null;
        var text = File.ReadAllText("/proc/cpuinfo");
        var cores = CoreIds().Matches(text).Select(m => m.Groups[1].Value + "/" + m.Groups[2].Value).Distinct().Count();
        if (cores == 0) cores = Environment.ProcessorCount;
        var megahertz = Megahertz().Match(text);
        if (!megahertz.Success) return null;
        var flags = Flags().Match(text).Groups[1].Value.Split(' ').ToHashSet();
        var (lanes, vector) = flags.Contains("avx512f") ? (16, "AVX-512") : flags.Contains("avx2") && flags.Contains("fma") ? (8, "AVX2") : (4, "SSE");
        var vnni = flags.Contains("avx512_vnni") && lanes == 16 || flags.Contains("avx_vnni");
        return new CpuPeak(cores, double.Parse(megahertz.Groups[1].Value, CultureInfo.InvariantCulture) / 1000, lanes, lanes * 4, vector, vnni);
    }

    [GeneratedRegex(@"physical id\s*:\s*(\d+)\s*\n(?:.*\n)*?core id\s*:\s*(\d+)")]
    private static partial Regex CoreIds();

    [GeneratedRegex(@"cpu MHz\s*:\s*([\d.]+)")]
    private static partial Regex Megahertz();

    [GeneratedRegex(@"flags\s*:\s*(.*)")]
    private static partial Regex Flags();
}
