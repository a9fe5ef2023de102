using VlmRm.Clip.Tokenization;
using VlmRm.TestSupport;

namespace VlmRm.Clip.Tests;

/// <summary>
/// CLIP's tokenizer: the merges file VlmRm ships (copied beside every build), loaded once; the Hugging Face files
/// under ../shared/models/clip-tokenizer serve only as an independent cross-check.
/// </summary>
internal static class TokenizerFiles
{
    /// <summary>SHA-256 of OpenAI's bpe_simple_vocab_16e6.txt.gz, as open_clip ships it.</summary>
    public const string MergesSha256 = "924691ac288e54409236115652ad4aa250f48203de50a9e4722a6ecd48d6804a";

    private static readonly Lazy<ClipTokenizer> FromMerges = new(() => ClipTokenizer.FromMergesFile(BundledMergesFile));

    public static string BundledMergesFile => Path.Combine(AppContext.BaseDirectory, ClipTokenizer.MergesFileName);

    public static string? HuggingFaceDirectory =>
        TestPaths.SharedDirectory is { } shared && File.Exists(Path.Combine(shared, "models", "clip-tokenizer", "vocab.json"))
            ? Path.Combine(shared, "models", "clip-tokenizer")
            : null;

    public const string HuggingFaceMissing = "the Hugging Face tokenizer files (../shared/models/clip-tokenizer) for the cross-check are not on this machine";

    public static ClipTokenizer Require() => FromMerges.Value;
}
