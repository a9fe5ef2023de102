using VlmRm.Clip.Models;
using VlmRm.Clip.Synthetic;
using Xunit;

namespace VlmRm.TestSupport;

/// <summary>Synthetic CLIP-architecture models (random weights, real ONNX Runtime path) in a temporary models directory.</summary>
public sealed class SyntheticModels
{
    public const string TokenizerMissing = "CLIP's tokenizer files (../shared/models/clip-tokenizer) are not on this machine";

    public SyntheticModels(params (string Name, SyntheticClipConfig Config)[] models)
    {
        var tokenizer = TestPaths.SharedDirectory is { } shared ? Path.Combine(shared, "models", "clip-tokenizer") : null;
        Assert.SkipWhen(tokenizer is null || !File.Exists(Path.Combine(tokenizer, "bpe_simple_vocab_16e6.txt.gz")), TokenizerMissing);
        var directory = Directory.CreateTempSubdirectory("vlmrm-models-").FullName;
        var seed = 11UL;
        foreach (var (name, config) in models) SyntheticClip.Create(config, seed++).WriteModelFolder(Path.Combine(directory, ClipModelRegistry.FolderName(name)), name);
        Options = new ClipRuntimeOptions { ModelsDirectory = directory, TokenizerDirectory = tokenizer, ExecutionProvider = ExecutionProviderChoice.Cpu, IntraOpThreads = 1 };
    }

    public ClipRuntimeOptions Options { get; }

    public OnnxClipModel Load(string name) => OnnxClipModel.Load(name, Options);
}
