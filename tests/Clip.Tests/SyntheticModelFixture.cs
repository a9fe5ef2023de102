using VlmRm.Clip.Export;
using VlmRm.Clip.Models;
using VlmRm.Clip.Synthetic;

namespace VlmRm.Clip.Tests;

/// <summary>A models directory holding one synthetic CLIP-architecture model, built once per test class.</summary>
public sealed class SyntheticModelFixture : IDisposable
{
    public const string Name = "Synthetic-ViT/test";

    public SyntheticModelFixture()
    {
        ModelsDirectory = Directory.CreateTempSubdirectory("vlmrm-models-").FullName;
        Model = SyntheticClip.Create(new ClipArchitecture(), seed: 7);
        Manifest = Model.WriteModelFolder(Path.Combine(ModelsDirectory, ClipModelRegistry.FolderName(Name)), Name);
    }

    public string ModelsDirectory { get; }
    public ClipWeights Model { get; }
    public ClipModelManifest Manifest { get; }
    public string Folder => Path.Combine(ModelsDirectory, ClipModelRegistry.FolderName(Name));

    public ClipRuntimeOptions Options(Func<ClipRuntimeOptions, ClipRuntimeOptions>? change = null)
    {
        var options = new ClipRuntimeOptions
        {
            ModelsDirectory = ModelsDirectory,
            ExecutionProvider = ExecutionProviderChoice.Cpu,
            IntraOpThreads = 1,
        };
        return change is null ? options : change(options);
    }

    /// <summary>A copy of the model folder under a new name, to damage in one test.</summary>
    public (ClipRuntimeOptions Options, string Folder) CopyModel(string name)
    {
        var models = Directory.CreateTempSubdirectory("vlmrm-models-").FullName;
        var folder = Path.Combine(models, ClipModelRegistry.FolderName(name));
        Directory.CreateDirectory(folder);
        foreach (var file in Directory.GetFiles(Folder)) File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        return (Options() with { ModelsDirectory = models }, folder);
    }

    public void Dispose() => Directory.Delete(ModelsDirectory, recursive: true);
}
