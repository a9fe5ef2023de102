using System.Runtime.InteropServices;
using Google.Protobuf;
using VlmRm.Clip.Onnx.Proto;

namespace VlmRm.Clip.Onnx;

/// <summary>
/// Rewrites a pretrained ONNX tower restored from a package (<see cref="Models.PackagedFile.Adapter"/>) into what the
/// reward path gives every image tower: a batch of any size of RGB planes. Nothing else about the model changes.
/// </summary>
public static class OnnxModelAdapters
{
    public const string AnyBatchRgb = "any-batch-rgb";

    public static IReadOnlyDictionary<string, Func<byte[], byte[]>> All { get; } = new Dictionary<string, Func<byte[], byte[]>>(StringComparer.Ordinal)
    {
        [AnyBatchRgb] = AnyBatchFromBgr,
    };

    /// <summary>
    /// CNTK's ImageNet ResNet18 (Microsoft.ML.DnnImageFeaturizer.ResNet18) declares a batch of 1 on its input and
    /// output, though its graph has no reshape and runs any batch, and it reads BGR planes (Caffe's order). The batch
    /// dimension becomes symbolic, and the first convolution's kernel takes its input channels in reverse order: the
    /// same convolution, of RGB planes. The intermediate shapes it records (with that batch of 1) are dropped: ONNX
    /// Runtime infers them.
    /// </summary>
    public static byte[] AnyBatchFromBgr(byte[] model)
    {
        var proto = ModelProto.Parser.ParseFrom(model);
        var graph = proto.Graph ?? throw new InvalidDataException("The ONNX model has no graph.");
        if (graph.Input.Count != 1) throw new InvalidDataException($"Expected an image tower with one input, found {graph.Input.Count}: {string.Join(", ", graph.Input.Select(i => i.Name))}.");
        foreach (var value in graph.Input.Concat(graph.Output))
        {
            var dims = value.Type?.TensorType?.Shape?.Dim;
            if (dims is not { Count: > 0 }) throw new InvalidDataException($"'{value.Name}' declares no shape; cannot make its batch dimension symbolic.");
            dims[0] = new TensorShapeProto.Types.Dimension { DimParam = "batch" };
        }
        graph.ValueInfo.Clear();
        var input = graph.Input[0].Name;
        var conv = graph.Node.FirstOrDefault(n => n.OpType == "Conv" && n.Input.Count > 1 && n.Input[0] == input)
                   ?? throw new InvalidDataException($"No convolution reads the input '{input}' directly; the channel order cannot be moved into its kernel.");
        var kernel = graph.Initializer.FirstOrDefault(t => t.Name == conv.Input[1])
                     ?? throw new InvalidDataException($"The first convolution's kernel '{conv.Input[1]}' is not an initializer.");
        if (kernel.Dims.Count != 4 || kernel.Dims[1] != 3) throw new InvalidDataException($"The first convolution's kernel has shape [{string.Join(", ", kernel.Dims)}]; expected [out, 3, h, w].");
        var values = kernel.FloatData.Count > 0 ? kernel.FloatData.ToArray() : MemoryMarshal.Cast<byte, float>(kernel.RawData.Span).ToArray();
        var plane = (int)(kernel.Dims[2] * kernel.Dims[3]);
        var swap = new float[plane];
        for (var output = 0; output < kernel.Dims[0]; output++)
        {
            var first = values.AsSpan(output * 3 * plane, plane);
            var third = values.AsSpan((output * 3 + 2) * plane, plane);
            first.CopyTo(swap);
            third.CopyTo(first);
            swap.CopyTo(third);
        }
        kernel.FloatData.Clear();
        kernel.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan()));
        return proto.ToByteArray();
    }
}
