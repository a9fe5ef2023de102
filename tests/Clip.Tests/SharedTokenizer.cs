using VlmRm.Clip.Tokenization;
using VlmRm.TestSupport;

namespace VlmRm.Clip.Tests;

/// <summary>CLIP's real tokenizer files from ../shared/models/clip-tokenizer, loaded once.</summary>
internal static class SharedTokenizer
{
    private static readonly Lazy<ClipTokenizer?> FromMerges = new(() =>
        Directory is { } dir ? ClipTokenizer.FromMergesFile(Path.Combine(dir, ClipTokenizer.MergesFileName)) : null);

    public static string? Directory =>
        TestPaths.SharedDirectory is { } shared && File.Exists(Path.Combine(shared, "models", "clip-tokenizer", ClipTokenizer.MergesFileName))
            ? Path.Combine(shared, "models", "clip-tokenizer")
            : null;

    public const string Missing = "CLIP's tokenizer files (../shared/models/clip-tokenizer) are not on this machine";

    public static ClipTokenizer Require()
    {
        Assert.SkipWhen(FromMerges.Value is null, Missing);
        return FromMerges.Value!;
    }
}
