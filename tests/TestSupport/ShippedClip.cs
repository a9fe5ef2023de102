using VlmRm.Clip.Models;

namespace VlmRm.TestSupport;

/// <summary>The CLIP VlmRm ships in models/ (its own, trained on these environments; not zero-shot CLIP).</summary>
public static class ShippedClip
{
    public const string Name = "VlmRm-S-32/envs-v4-plateau";

    public static string ModelsDirectory => Path.Combine(TestPaths.RepositoryRoot, "models");

    public static ClipRuntimeOptions Runtime => new() { ModelsDirectory = ModelsDirectory, ExecutionProvider = ExecutionProviderChoice.Cpu, IntraOpThreads = 2 };

    public static OnnxClipModel Load() => OnnxClipModel.Load(Name, Runtime);
}
