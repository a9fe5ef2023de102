using VlmRm.Clip.Tokenization;

namespace VlmRm.Clip.Models;

/// <summary>Turns a text tower's output for a token batch into one embedding per text (rows of <c>embeddings</c>).</summary>
public delegate void TextPooling(ReadOnlySpan<float> output, ReadOnlySpan<long> shape, TokenBatch tokens, Span<float> embeddings);

/// <summary>
/// The encoder families a model folder may name, in one place: its tokenizer kind (model.json <c>tokenizer_kind</c>)
/// and what each tower's output is (<c>image.kind</c>, <c>text.kind</c>). The registry, the reward path, export and
/// the evaluation tools go through these tables, so a new family (a SentencePiece tokenizer for SigLIP, say) is one
/// entry here, not a switch in every caller.
/// </summary>
public static class EncoderFamilies
{
    public const string ClipBpe = "clip-bpe";
    public const string WordPiece = "wordpiece";

    /// <summary>The tower returns one embedding per input, [N, D] (CLIP's pooled and projected towers).</summary>
    public const string Embeddings = "embeddings";

    /// <summary>The tower returns token states [N, L, D]; the embedding is their mean over the attention mask (sentence-transformers).</summary>
    public const string MeanPooledTokens = "mean-pooled-tokens";

    /// <summary>The tower returns pooled convolutional features [N, F, 1, 1] (an ImageNet CNN); a trained head embeds them.</summary>
    public const string PooledFeatureMap = "pooled-feature-map";

    public static IReadOnlyDictionary<string, Func<string, ITextTokenizer>> Tokenizers { get; } = new Dictionary<string, Func<string, ITextTokenizer>>(StringComparer.Ordinal)
    {
        [ClipBpe] = ClipTokenizer.FromMergesFile,
        [WordPiece] = WordPieceTokenizer.FromVocabularyFile,
    };

    public static IReadOnlyDictionary<string, TextPooling> TextOutputs { get; } = new Dictionary<string, TextPooling>(StringComparer.Ordinal)
    {
        [Embeddings] = CopyEmbeddings,
        [MeanPooledTokens] = MeanOverMask,
    };

    public static IReadOnlySet<string> ImageOutputs { get; } = new HashSet<string>(StringComparer.Ordinal) { Embeddings, PooledFeatureMap };

    /// <summary>The output shape a tower of this kind declares, for checks and their errors.</summary>
    public static string ExpectedShape(string kind, int embedDim) => kind switch
    {
        MeanPooledTokens => $"[batch, tokens, {embedDim}]",
        PooledFeatureMap => $"[batch, {embedDim}, 1, 1]",
        _ => $"[batch, {embedDim}]",
    };

    /// <summary>Whether an ONNX output's declared shape (-1 where symbolic) fits the kind and the width (the embedding's, or the features' for a pooled map).</summary>
    public static bool OutputFits(string kind, int[] dims, int width) => kind switch
    {
        MeanPooledTokens => dims.Length == 3 && (dims[^1] <= 0 || dims[^1] == width),
        PooledFeatureMap => dims.Length == 4 && (dims[1] <= 0 || dims[1] == width) && dims[2] == 1 && dims[3] == 1,
        _ => dims.Length == 2 && (dims[^1] <= 0 || dims[^1] == width),
    };

    /// <summary>Throws when the manifest names a family this build does not know, naming it and listing the known ones.</summary>
    public static void Validate(ClipModelManifest manifest, string path)
    {
        static void Require(string value, string key, IEnumerable<string> known, string path)
        {
            if (!known.Contains(value, StringComparer.Ordinal))
            {
                throw new InvalidDataException($"{path}: {key} '{value}' is not a kind VlmRm knows; known: {string.Join(", ", known)}.");
            }
        }
        Require(manifest.TokenizerKind, "tokenizer_kind", Tokenizers.Keys, path);
        Require(manifest.Text.Kind, "text.kind", TextOutputs.Keys, path);
        Require(manifest.Image.Kind, "image.kind", ImageOutputs, path);
        if ((manifest.Image.Kind == PooledFeatureMap) != (manifest.ImageHead is not null))
        {
            throw new InvalidDataException($"{path}: an image tower of kind '{PooledFeatureMap}' returns features and needs an image_head to embed them, and only it takes one (image.kind is '{manifest.Image.Kind}').");
        }
    }

    private static void CopyEmbeddings(ReadOnlySpan<float> output, ReadOnlySpan<long> shape, TokenBatch tokens, Span<float> embeddings) =>
        output[..embeddings.Length].CopyTo(embeddings);

    private static void MeanOverMask(ReadOnlySpan<float> output, ReadOnlySpan<long> shape, TokenBatch tokens, Span<float> embeddings)
    {
        var (count, length, dim) = ((int)shape[0], (int)shape[1], (int)shape[2]);
        embeddings.Clear();
        for (var i = 0; i < count; i++)
        {
            var row = embeddings.Slice(i * dim, dim);
            var used = 0;
            for (var t = 0; t < length; t++)
            {
                if (tokens.Mask[i * tokens.Length + t] == 0) continue;
                System.Numerics.Tensors.TensorPrimitives.Add(row, output.Slice((i * length + t) * dim, dim), row);
                used++;
            }
            System.Numerics.Tensors.TensorPrimitives.Divide(row, Math.Max(1, used), row);
        }
    }
}
