using VlmRm.Clip.Export;
using VlmRm.Clip.Models;
using VlmRm.Clip.Synthetic;

namespace VlmRm.TestSupport;

/// <summary>Synthetic CLIP-architecture models (random weights, real ONNX Runtime path) in a temporary models directory.</summary>
public sealed class SyntheticModels
{
    public SyntheticModels(params (string Name, ClipArchitecture Config)[] models)
    {
        var directory = Directory.CreateTempSubdirectory("vlmrm-models-").FullName;
        var seed = 11UL;
        foreach (var (name, config) in models) SyntheticClip.Create(config, seed++).WriteModelFolder(Path.Combine(directory, ClipModelRegistry.FolderName(name)), name);
        Options = new ClipRuntimeOptions { ModelsDirectory = directory, ExecutionProvider = ExecutionProviderChoice.Cpu, IntraOpThreads = 1 };
    }

    public ClipRuntimeOptions Options { get; }

    public OnnxClipModel Load(string name) => OnnxClipModel.Load(name, Options);
}
