using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using VlmRm.Clip.Preprocessing;
using VlmRm.Clip.Tokenization;

namespace VlmRm.Clip.Models;

/// <summary>
/// A CLIP model's two towers as ONNX Runtime sessions, with its tokenizer and preprocessing. Image
/// batches are preprocessed straight into a reused input buffer and the towers write into the
/// caller's embedding buffer. Embeddings are returned as the towers produce them (not normalized).
/// </summary>
public sealed class OnnxClipModel : IDisposable
{
    private readonly InferenceSession _image;
    private readonly InferenceSession? _imageHead;
    private readonly OnnxTextTower _text;
    private readonly ClipRuntimeOptions _options;
    private readonly Lock _imageLock = new();
    private float[] _pixels = [];

    private OnnxClipModel(ClipModelFolder folder, ClipRuntimeOptions options, InferenceSession image, InferenceSession? imageHead, InferenceSession text, InferenceSession? textHead, string provider)
    {
        Folder = folder;
        _options = options;
        _image = image;
        _imageHead = imageHead;
        var tokenizer = EncoderFamilies.Tokenizers[folder.Manifest.TokenizerKind](folder.TokenizerPath);
        _text = new OnnxTextTower(text, folder.Manifest.Text, tokenizer, folder.Manifest.ContextLength, folder.Manifest.EmbedDim,
            textHead is null ? null : (textHead, folder.Manifest.TextHead!));
        ExecutionProvider = provider;
        Preprocessor = new ClipPreprocessor(folder.Manifest.ImageSize, folder.Manifest.Mean, folder.Manifest.Std);
    }

    public ClipModelFolder Folder { get; }
    public ClipModelManifest Manifest => Folder.Manifest;
    public int EmbedDim => Manifest.EmbedDim;
    public ITextTokenizer Tokenizer => _text.Tokenizer;
    public ClipPreprocessor Preprocessor { get; }

    /// <summary>"CUDA" or "CPU": where the sessions actually run.</summary>
    public string ExecutionProvider { get; }

    public static OnnxClipModel Load(string name, ClipRuntimeOptions options, ILogger? logger = null) =>
        Load(new ClipModelRegistry(options).Resolve(name), options, logger);

    public static OnnxClipModel Load(ClipModelFolder folder, ClipRuntimeOptions options, ILogger? logger = null)
    {
        logger ??= NullLogger.Instance;
        var (sessionOptions, provider) = CreateSessionOptions(options, logger);
        using (sessionOptions)
        {
            var image = OpenSession(folder.ImagePath, sessionOptions, "image tower");
            InferenceSession? imageHead = null, text = null, textHead = null;
            try
            {
                if (folder.ImageHeadPath is { } imageHeadPath) imageHead = OpenSession(imageHeadPath, sessionOptions, "image head");
                text = OpenSession(folder.TextPath, sessionOptions, "text tower");
                if (folder.TextHeadPath is { } headPath) textHead = OpenSession(headPath, sessionOptions, "text head");
            }
            catch
            {
                image.Dispose();
                imageHead?.Dispose();
                text?.Dispose();
                throw;
            }
            var model = new OnnxClipModel(folder, options, image, imageHead, text, textHead, provider);
            try
            {
                model.CheckIo();
                if (options.VerifyReferenceEmbeddings && folder.ReferencePath is { } reference) ReferenceEmbeddings.Load(reference).Verify(model);
            }
            catch
            {
                model.Dispose();
                throw;
            }
            logger.LogInformation("CLIP {Model} loaded on {Provider} ({Parameters:N0} parameters, {Size}px, {Dim}-d embeddings)",
                folder.Name, provider, folder.Manifest.Parameters, folder.Manifest.ImageSize, folder.Manifest.EmbedDim);
            return model;
        }
    }

    /// <summary>Embeds <paramref name="count"/> RGB frames of any size (preprocessed as OpenCLIP does) into count × EmbedDim floats.</summary>
    public void EmbedImages(ReadOnlySpan<byte> frames, int count, int height, int width, Span<float> embeddings)
    {
        if (embeddings.Length < count * EmbedDim) throw new ArgumentException($"Embedding buffer holds {embeddings.Length} floats; {count} images need {count * EmbedDim}.", nameof(embeddings));
        var frameBytes = height * width * 3;
        var batch = Math.Max(1, _options.MaxImageBatch);
        lock (_imageLock)
        {
            var needed = Math.Min(batch, count) * Preprocessor.FloatsPerImage;
            if (_pixels.Length < needed) _pixels = new float[needed];
            for (var start = 0; start < count; start += batch)
            {
                var n = Math.Min(batch, count - start);
                Preprocessor.Preprocess(frames.Slice(start * frameBytes, n * frameBytes), n, height, width, _pixels, _options.PreprocessThreads);
                RunImageTower(_pixels.AsMemory(0, n * Preprocessor.FloatsPerImage), n, embeddings.Slice(start * EmbedDim, n * EmbedDim));
            }
        }
    }

    /// <summary>Runs the image tower on already-preprocessed N×3×S×S pixels.</summary>
    public void EmbedPreprocessed(Memory<float> pixels, int count, Span<float> embeddings)
    {
        if (pixels.Length < count * Preprocessor.FloatsPerImage) throw new ArgumentException($"Pixel tensor holds {pixels.Length} floats; {count} images need {count * Preprocessor.FloatsPerImage}.", nameof(pixels));
        RunImageTower(pixels[..(count * Preprocessor.FloatsPerImage)], count, embeddings[..(count * EmbedDim)]);
    }

    /// <summary>Tokenizes and embeds texts: texts.Count × EmbedDim floats.</summary>
    public float[] EmbedTexts(IReadOnlyList<string> texts) => _text.Embed(texts);

    public void Dispose()
    {
        _image.Dispose();
        _imageHead?.Dispose();
        _text.Dispose();
    }

    /// <summary>The width of the image tower's own output: the embedding, or the pooled features its head embeds.</summary>
    private int ImageTowerWidth => _imageHead is null ? EmbedDim : (int)_imageHead.InputMetadata[Manifest.ImageHead!.Input].Dimensions[^1];

    /// <summary>Runs the image tower (and its head, where the tower returns features) into count × EmbedDim floats.</summary>
    private unsafe void RunImageTower(Memory<float> pixels, int count, Span<float> embeddings)
    {
        var size = Manifest.ImageSize;
        using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, pixels, [count, 3, size, size]);
        using var run = new RunOptions();
        if (_imageHead is null)
        {
            fixed (float* destination = embeddings)
            {
                using var output = OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, TensorElementType.Float, [count, EmbedDim], (nint)destination, (long)count * EmbedDim * sizeof(float));
                _image.Run(run, [Manifest.Image.Input], [input], [Manifest.Image.Output], [output]);
            }
            return;
        }
        var width = ImageTowerWidth;
        var rented = System.Buffers.ArrayPool<float>.Shared.Rent(count * width);
        try
        {
            var features = rented.AsMemory(0, count * width);
            using (var pooled = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, features, [count, width, 1, 1]))
            {
                _image.Run(run, [Manifest.Image.Input], [input], [Manifest.Image.Output], [pooled]);
            }
            var head = Manifest.ImageHead!;
            using var headInput = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, features, [count, width]);
            fixed (float* destination = embeddings)
            {
                using var output = OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, TensorElementType.Float, [count, EmbedDim], (nint)destination, (long)count * EmbedDim * sizeof(float));
                _imageHead.Run(run, [head.Input], [headInput], [head.Output], [output]);
            }
        }
        finally
        {
            System.Buffers.ArrayPool<float>.Shared.Return(rented);
        }
    }

    private void CheckIo()
    {
        void Require(InferenceSession session, string path, string input, string output, string kind, int width)
        {
            if (!session.InputMetadata.ContainsKey(input))
            {
                throw new InvalidDataException($"{path} has no input '{input}' (model.json); its inputs are: {string.Join(", ", session.InputMetadata.Keys)}.");
            }
            if (!session.OutputMetadata.TryGetValue(output, out var metadata))
            {
                throw new InvalidDataException($"{path} has no output '{output}' (model.json); its outputs are: {string.Join(", ", session.OutputMetadata.Keys)}.");
            }
            var dims = metadata.Dimensions;
            if (!EncoderFamilies.OutputFits(kind, dims, width))
            {
                var expected = width == EmbedDim ? $"embed_dim {EmbedDim} in model.json" : $"the image head's input width {width}";
                throw new InvalidDataException($"{path}: output '{output}' has shape [{string.Join(", ", dims)}], expected {EncoderFamilies.ExpectedShape(kind, width)} ({kind}, {expected}).");
            }
        }
        if (_imageHead is not null) Require(_imageHead, Folder.ImageHeadPath!, Manifest.ImageHead!.Input, Manifest.ImageHead.Output, EncoderFamilies.Embeddings, EmbedDim);
        Require(_image, Folder.ImagePath, Manifest.Image.Input, Manifest.Image.Output, Manifest.Image.Kind, ImageTowerWidth);
        Require(_text.Session, Folder.TextPath, Manifest.Text.Input, Manifest.Text.Output, Manifest.Text.Kind, EmbedDim);
    }

    private static InferenceSession OpenSession(string path, SessionOptions options, string role)
    {
        try
        {
            return new InferenceSession(path, options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidDataException($"ONNX Runtime cannot load the {role} {path}: {e.Message}", e);
        }
    }

    /// <summary>Whether this process's ONNX Runtime build offers the CUDA execution provider (the GPU package on a CUDA machine).</summary>
    public static bool CudaExecutionProviderAvailable() => OrtEnv.Instance().GetAvailableProviders().Contains("CUDAExecutionProvider");

    /// <summary>The answer to an explicit <c>Clip:ExecutionProvider: cuda</c> that this process cannot honour.</summary>
    public static string CudaUnavailable(string reason) =>
        $"Clip:ExecutionProvider is cuda, but this process cannot run CLIP on CUDA ({reason}): use the Microsoft.ML.OnnxRuntime.Gpu " +
        "build on a CUDA machine (docs/CLIP.md), or set Clip:ExecutionProvider to auto (CUDA where there is one, else CPU) or cpu.";

    private static (SessionOptions Options, string Provider) CreateSessionOptions(ClipRuntimeOptions options, ILogger logger)
    {
        var session = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            IntraOpNumThreads = options.IntraOpThreads,
        };
        if (options.ExecutionProvider == ExecutionProviderChoice.Cpu) return (session, "CPU");
        try
        {
            // Present only in the Microsoft.ML.OnnxRuntime.Gpu build (see docs/CLIP.md for the package swap).
            session.AppendExecutionProvider_CUDA(options.CudaDeviceId);
            return (session, "CUDA");
        }
        catch (Exception e) when (e is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
        {
            var reason = e.Message.Split('\n')[0];
            // Only auto may fall back: a silo asked for CUDA advertises it and draws every reward grain to a CPU.
            if (options.ExecutionProvider == ExecutionProviderChoice.Cuda)
            {
                session.Dispose();
                throw new InvalidOperationException(CudaUnavailable(reason), e);
            }
            logger.LogWarning("CUDA execution provider unavailable ({Reason}); CLIP runs on CPU.", reason);
            return (session, "CPU");
        }
    }
}
