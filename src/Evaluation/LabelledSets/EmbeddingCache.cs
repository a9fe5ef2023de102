using System.Runtime.InteropServices;
using VlmRm.Clip.Models;
using VlmRm.Envs.Imaging;

namespace VlmRm.Evaluation.LabelledSets;

/// <summary>Image embeddings of every frame of a labelled set under one CLIP model (Count × EmbedDim, unnormalized).</summary>
public sealed record SetEmbeddings(string Model, int Count, int EmbedDim, float[] Values, bool FromCache)
{
    public ReadOnlySpan<float> Of(int index) => Values.AsSpan(index * EmbedDim, EmbedDim);
}

/// <summary>
/// Image embeddings are computed once per (labelled set, CLIP model) and kept in the set's <c>embeddings/</c>
/// folder, so an α sweep or a prompt comparison costs text passes only. The file is keyed by the set's content
/// hash and the model's image-tower file (name, size, SHA-256): any change to either recomputes it.
/// </summary>
public static class EmbeddingCache
{
    private const string Magic = "VLMRMEMB";
    private const int FormatVersion = 1;
    private const int FramesPerBatch = 32;

    public static string PathFor(LabelledSet set, OnnxClipModel model) =>
        Path.Combine(set.Directory, "embeddings", ClipModelRegistry.FolderName(model.Folder.Name) + ".embeddings");

    public static SetEmbeddings GetOrCompute(LabelledSet set, OnnxClipModel model, IProgress<int>? framesDone = null)
    {
        var key = $"{set.ContentHash()}|{ModelKey(model)}";
        var path = PathFor(set, model);
        if (TryRead(path, key, set.Count, model.EmbedDim) is { } cached) return new SetEmbeddings(model.Folder.Name, set.Count, model.EmbedDim, cached, FromCache: true);

        var values = new float[set.Count * model.EmbedDim];
        var (width, height) = (set.Manifest.FrameWidth, set.Manifest.FrameHeight);
        var frameBytes = width * height * 3;
        var batch = new byte[FramesPerBatch * frameBytes];
        for (var start = 0; start < set.Count; start += FramesPerBatch)
        {
            var n = Math.Min(FramesPerBatch, set.Count - start);
            for (var i = 0; i < n; i++) set.ReadFrame(start + i).CopyTo(batch, i * frameBytes);
            model.EmbedImages(batch.AsSpan(0, n * frameBytes), n, height, width, values.AsSpan(start * model.EmbedDim, n * model.EmbedDim));
            framesDone?.Report(start + n);
        }
        Write(path, key, set.Count, model.EmbedDim, values);
        return new SetEmbeddings(model.Folder.Name, set.Count, model.EmbedDim, values, FromCache: false);
    }

    private static string ModelKey(OnnxClipModel model)
    {
        var image = model.Manifest.Image;
        return $"{model.Folder.Name}|{image.File}|{new FileInfo(model.Folder.ImagePath).Length}|{image.Sha256}";
    }

    private static float[]? TryRead(string path, string key, int count, int dimension)
    {
        if (!File.Exists(path)) return null;
        try
        {
            using var reader = new BinaryReader(File.OpenRead(path));
            if (reader.ReadString() != Magic || reader.ReadInt32() != FormatVersion || reader.ReadString() != key) return null;
            if (reader.ReadInt32() != count || reader.ReadInt32() != dimension) return null;
            var values = new float[count * dimension];
            var bytes = reader.ReadBytes(values.Length * sizeof(float));
            if (bytes.Length != values.Length * sizeof(float)) return null;
            MemoryMarshal.Cast<byte, float>(bytes).CopyTo(values);
            return values.All(float.IsFinite) ? values : null;
        }
        catch (Exception e) when (e is EndOfStreamException or IOException)
        {
            return null; // an unreadable cache is recomputed, never trusted
        }
    }

    private static void Write(string path, string key, int count, int dimension, float[] values)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Magic);
            writer.Write(FormatVersion);
            writer.Write(key);
            writer.Write(count);
            writer.Write(dimension);
            writer.Write(MemoryMarshal.AsBytes(values.AsSpan()));
        }
        AtomicFile.WriteAllBytes(path, stream.ToArray());
    }
}
