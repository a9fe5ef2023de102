using System.Runtime.InteropServices;
using Google.Protobuf;
using VlmRm.Clip.Onnx.Proto;

namespace VlmRm.Clip.Onnx;

/// <summary>
/// Builds an ONNX model (opset 17) node by node. Each helper returns the name of the value it produced,
/// so graphs read like the forward pass they encode.
/// </summary>
internal sealed class OnnxGraphBuilder
{
    public const int OpsetVersion = 17;

    private readonly GraphProto _graph = new();
    private int _counter;

    public OnnxGraphBuilder(string name) => _graph.Name = name;

    public long ParameterCount { get; private set; }

    public string FloatInput(string name, params object[] dims) => AddValueInfo(_graph.Input, name, TensorProto.Types.DataType.Float, dims);

    public string Int64Input(string name, params object[] dims) => AddValueInfo(_graph.Input, name, TensorProto.Types.DataType.Int64, dims);

    public void FloatOutput(string name, params object[] dims) => AddValueInfo(_graph.Output, name, TensorProto.Types.DataType.Float, dims);

    /// <summary>A float initializer; counted as a model parameter unless <paramref name="isParameter"/> is false.</summary>
    public string Initializer(string name, ReadOnlySpan<float> values, long[] dims, bool isParameter = true)
    {
        var expected = dims.Aggregate(1L, (a, b) => a * b);
        if (expected != values.Length) throw new ArgumentException($"Initializer {name}: {values.Length} values for shape [{string.Join(", ", dims)}].");
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values)) };
        tensor.Dims.AddRange(dims);
        _graph.Initializer.Add(tensor);
        if (isParameter) ParameterCount += values.Length;
        return name;
    }

    /// <summary>
    /// A float initializer whose bytes lie in <paramref name="location"/> (relative to the model file) from
    /// <paramref name="offset"/>: ONNX external data, for weights beyond protobuf's 2 GB. Counted as parameters.
    /// </summary>
    public string ExternalInitializer(string name, long[] dims, string location, long offset)
    {
        var values = dims.Aggregate(1L, (a, b) => a * b);
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float, DataLocation = TensorProto.Types.DataLocation.External };
        tensor.Dims.AddRange(dims);
        tensor.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = location });
        tensor.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = offset.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        tensor.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = (values * sizeof(float)).ToString(System.Globalization.CultureInfo.InvariantCulture) });
        _graph.Initializer.Add(tensor);
        ParameterCount += values;
        return name;
    }

    /// <summary>A float16 initializer (values rounded to the nearest half), counted as parameters.</summary>
    public string HalfInitializer(string name, ReadOnlySpan<float> values, long[] dims)
    {
        var halves = new Half[values.Length];
        for (var i = 0; i < values.Length; i++) halves[i] = (Half)values[i];
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float16, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(halves.AsSpan())) };
        tensor.Dims.AddRange(dims);
        _graph.Initializer.Add(tensor);
        ParameterCount += values.Length;
        return name;
    }

    public string Int64Constant(params long[] values)
    {
        var name = $"const_{_counter++}";
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan())) };
        tensor.Dims.Add(values.Length);
        _graph.Initializer.Add(tensor);
        return name;
    }

    public string Int64Scalar(long value)
    {
        var name = $"scalar_{_counter++}";
        _graph.Initializer.Add(new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64, RawData = ByteString.CopyFrom(BitConverter.GetBytes(value)) });
        return name;
    }

    public string FloatScalar(float value)
    {
        var name = $"scalar_{_counter++}";
        _graph.Initializer.Add(new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(BitConverter.GetBytes(value)) });
        return name;
    }

    /// <summary>Adds a node with one output; <paramref name="output"/> names it (a fresh name otherwise).</summary>
    public string Node(string opType, string[] inputs, string? output = null, params AttributeProto[] attributes)
    {
        output ??= $"{opType.ToLowerInvariant()}_{_counter++}";
        var node = new NodeProto { OpType = opType, Name = $"{opType}_{_counter++}" };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        _graph.Node.Add(node);
        return output;
    }

    /// <summary>Adds a node with several outputs, named from <paramref name="stem"/>.</summary>
    public string[] Node(string opType, string[] inputs, string stem, int outputCount, params AttributeProto[] attributes)
    {
        var outputs = Enumerable.Range(0, outputCount).Select(i => $"{stem}_{_counter}_{i}").ToArray();
        var node = new NodeProto { OpType = opType, Name = $"{opType}_{_counter++}" };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        node.Attribute.AddRange(attributes);
        _graph.Node.Add(node);
        return outputs;
    }

    /// <summary>An int8 initializer, counted as parameters.</summary>
    public string Int8Initializer(string name, ReadOnlySpan<sbyte> values, long[] dims)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int8, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values)) };
        tensor.Dims.AddRange(dims);
        _graph.Initializer.Add(tensor);
        ParameterCount += values.Length;
        return name;
    }

    /// <summary>
    /// x·W for a weight matrix [inputs, outputs]: float32, or with <paramref name="int8"/> the pattern
    /// ONNX Runtime's dynamic quantization emits — activations quantized per call (uint8), weights per
    /// output column (int8, symmetric), MatMulInteger, then rescaled to float.
    /// </summary>
    public string WeightMatMul(string x, string name, float[] weight, int inputs, int outputs, bool int8)
    {
        if (!int8) return MatMul(x, Initializer(name, weight, [inputs, outputs]));
        var quantized = new sbyte[weight.Length];
        var scales = new float[outputs];
        for (var o = 0; o < outputs; o++)
        {
            var max = 0f;
            for (var i = 0; i < inputs; i++) max = Math.Max(max, Math.Abs(weight[i * outputs + o]));
            scales[o] = max > 0 ? max / 127f : 1f;
            for (var i = 0; i < inputs; i++) quantized[i * outputs + o] = (sbyte)Math.Clamp(Math.Round(weight[i * outputs + o] / scales[o]), -127, 127);
        }
        var weightName = Int8Initializer($"{name}_quantized", quantized, [inputs, outputs]);
        var weightScale = Initializer($"{name}_scale", scales, [outputs], isParameter: false);
        var q = Node("DynamicQuantizeLinear", [x], "dql", 3);
        var product = Node("MatMulInteger", [q[0], weightName, q[2]]);
        var asFloat = CastToFloat(product);
        return Mul(asFloat, Mul(q[1], weightScale));
    }

    public static AttributeProto Int(string name, long value) => new() { Name = name, I = value, Type = AttributeProto.Types.AttributeType.Int };

    public static AttributeProto Float(string name, float value) => new() { Name = name, F = value, Type = AttributeProto.Types.AttributeType.Float };

    public static AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    public string CastToFloat(string x) => Node("Cast", [x], null, Int("to", (long)TensorProto.Types.DataType.Float));

    public string MatMul(string a, string b) => Node("MatMul", [a, b]);

    public string Add(string a, string b, string? output = null) => Node("Add", [a, b], output);

    public string Mul(string a, string b) => Node("Mul", [a, b]);

    public string Reshape(string x, params long[] shape) => Node("Reshape", [x, Int64Constant(shape)]);

    public string Transpose(string x, params long[] perm) => Node("Transpose", [x], null, Ints("perm", perm));

    public string LayerNorm(string x, string gamma, string beta, float epsilon = 1e-5f) =>
        Node("LayerNormalization", [x, gamma, beta], null, Int("axis", -1), Float("epsilon", epsilon));

    public byte[] ToBytes(string producer, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var model = new ModelProto { IrVersion = 8, ProducerName = producer, ProducerVersion = "1", Graph = _graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = OpsetVersion });
        foreach (var (key, value) in metadata ?? new Dictionary<string, string>())
        {
            model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        }
        return model.ToByteArray();
    }

    private static string AddValueInfo(Google.Protobuf.Collections.RepeatedField<ValueInfoProto> list, string name, TensorProto.Types.DataType type, object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var dim in dims)
        {
            shape.Dim.Add(dim switch
            {
                string symbol => new TensorShapeProto.Types.Dimension { DimParam = symbol },
                int size => new TensorShapeProto.Types.Dimension { DimValue = size },
                long size => new TensorShapeProto.Types.Dimension { DimValue = size },
                _ => throw new ArgumentException($"Dimension {dim} of {name} must be a size or a symbol."),
            });
        }
        list.Add(new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } } });
        return name;
    }
}
