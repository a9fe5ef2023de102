namespace VlmRm.Clip.Models;

public enum ExecutionProviderChoice
{
    /// <summary>CUDA when the GPU build of ONNX Runtime and a GPU are there, CPU otherwise.</summary>
    Auto,
    Cpu,
    Cuda,
}

/// <summary>How CLIP sessions run. Bound from configuration section "Clip".</summary>
public sealed record ClipRuntimeOptions
{
    /// <summary>Folder holding one sub-folder per model; environment variable VLMRM_MODELS overrides the default "models".</summary>
    public string ModelsDirectory { get; init; } = Environment.GetEnvironmentVariable("VLMRM_MODELS") is { Length: > 0 } configured ? configured : "models";

    /// <summary>Where CLIP's merges file is looked up when a model folder has none (e.g. ../shared/models/clip-tokenizer).</summary>
    public string? TokenizerDirectory { get; init; } = Environment.GetEnvironmentVariable("VLMRM_TOKENIZER");

    public ExecutionProviderChoice ExecutionProvider { get; init; } = ExecutionProviderChoice.Auto;
    public int CudaDeviceId { get; init; }

    /// <summary>
    /// ONNX Runtime intra-op threads. Default: one per logical core, set explicitly because ONNX Runtime's own
    /// default (0) measured ~35% slower on the 2-vCPU dev machine (docs/BENCHMARKS.md).
    /// </summary>
    public int IntraOpThreads { get; init; } = Environment.ProcessorCount;

    /// <summary>Largest batch sent to the image tower at once; bigger requests are split.</summary>
    public int MaxImageBatch { get; init; } = 64;

    /// <summary>Threads preprocessing a batch (−1: all cores).</summary>
    public int PreprocessThreads { get; init; } = -1;

    /// <summary>Check each ONNX file's SHA-256 against model.json on load (costs a read of the file).</summary>
    public bool VerifyChecksums { get; init; } = true;

    /// <summary>Check embeddings against reference.json on load when the folder has one.</summary>
    public bool VerifyReferenceEmbeddings { get; init; } = true;
}
