using Microsoft.ML.OnnxRuntime;
using VlmRm.Clip.Tokenization;

namespace VlmRm.Clip.Models;

/// <summary>
/// A text tower as an ONNX Runtime session with its tokenizer and output pooling (<see cref="EncoderFamilies"/>):
/// texts in, one embedding per text out. The reward path reaches it through <see cref="OnnxClipModel"/>; training
/// against a locked pretrained tower opens it alone.
/// </summary>
public sealed class OnnxTextTower : IDisposable
{
    private readonly InferenceSession _session;
    private readonly TowerFile _tower;
    private readonly TextPooling _pooling;
    private readonly (InferenceSession Session, TowerFile File)? _head;

    /// <param name="head">A trained head applied to the pooled embeddings (<see cref="ClipModelManifest.TextHead"/>); the tower owns its session.</param>
    public OnnxTextTower(InferenceSession session, TowerFile tower, ITextTokenizer tokenizer, int contextLength, int embedDim, (InferenceSession Session, TowerFile File)? head = null)
    {
        _session = session;
        _tower = tower;
        _head = head;
        _pooling = EncoderFamilies.TextOutputs[tower.Kind];
        Tokenizer = tokenizer;
        ContextLength = contextLength;
        EmbedDim = embedDim;
    }

    public ITextTokenizer Tokenizer { get; }
    public int ContextLength { get; }
    public int EmbedDim { get; }
    internal InferenceSession Session => _session;

    /// <summary>Opens a pretrained tower on the CPU, its files restored into <paramref name="folder"/> first.</summary>
    public static OnnxTextTower OpenPretrained(PretrainedTextTower pretrained, string folder, int threads)
    {
        Directory.CreateDirectory(folder);
        PackagedFiles.RestoreMissing(folder, pretrained.Files);
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, IntraOpNumThreads = threads };
        var session = new InferenceSession(Path.Combine(folder, pretrained.Tower.File), options);
        var tokenizer = EncoderFamilies.Tokenizers[pretrained.TokenizerKind](Path.Combine(folder, pretrained.Tokenizer));
        return new OnnxTextTower(session, pretrained.Tower, tokenizer, pretrained.ContextLength, pretrained.EmbedDim);
    }

    /// <summary>Tokenizes and embeds texts: texts.Count × EmbedDim floats (not normalized).</summary>
    public float[] Embed(IReadOnlyList<string> texts)
    {
        var tokens = Tokenizer.TokenizeBatch(texts, ContextLength);
        var embeddings = new float[texts.Count * EmbedDim];
        if (texts.Count == 0) return embeddings;
        long[] shape = [tokens.Count, tokens.Length];
        var names = new List<string> { _tower.Input };
        var inputs = new List<OrtValue> { OrtValue.CreateTensorValueFromMemory(tokens.Ids, shape) };
        try
        {
            if (_tower.AttentionMaskInput is { } maskName)
            {
                names.Add(maskName);
                inputs.Add(OrtValue.CreateTensorValueFromMemory(tokens.Mask, shape));
            }
            if (_tower.TokenTypeInput is { } typeName)
            {
                names.Add(typeName);
                inputs.Add(OrtValue.CreateTensorValueFromMemory(new long[tokens.Ids.Length], shape)); // one sentence: all type 0
            }
            using var run = new RunOptions();
            using var outputs = _session.Run(run, names, inputs, [_tower.Output]);
            var output = outputs[0];
            _pooling(output.GetTensorDataAsSpan<float>(), output.GetTensorTypeAndShape().Shape, tokens, embeddings);
        }
        finally
        {
            foreach (var input in inputs) input.Dispose();
        }
        if (_head is { } head) ApplyHead(head.Session, head.File, embeddings, texts.Count);
        return embeddings;
    }

    private void ApplyHead(InferenceSession head, TowerFile file, float[] embeddings, int count)
    {
        using var input = OrtValue.CreateTensorValueFromMemory((float[])embeddings.Clone(), [count, EmbedDim]);
        using var output = OrtValue.CreateTensorValueFromMemory(embeddings, [count, EmbedDim]);
        using var run = new RunOptions();
        head.Run(run, [file.Input], [input], [file.Output], [output]);
    }

    public void Dispose()
    {
        _session.Dispose();
        _head?.Session.Dispose();
    }
}
