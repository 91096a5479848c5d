using System.Runtime.InteropServices;
using Google.Protobuf;

namespace MoeMesh.Inference.Moe.Onnx;

/// <summary>ONNX tensor element types (<c>TensorProto.DataType</c>).</summary>
public enum OnnxElementType
{
    Float = 1,
    Int8 = 3,
    Int64 = 7,
    Float16 = 10,
}

/// <summary>
/// Builds an ONNX model (one graph) and writes it as the protobuf bytes ONNX Runtime loads, encoded
/// field by field with <see cref="CodedOutputStream"/> using the message and field numbers of the
/// ONNX schema (onnx.proto): ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto,
/// ValueInfoProto, TypeProto. Names of intermediate values are generated.
/// </summary>
public sealed class OnnxGraphBuilder
{
    /// <summary>Operator set of the default domain the graphs use.</summary>
    public const int OpsetVersion = 17;

    private const long IrVersion = 8;

    private readonly List<ByteString> _nodes = [];
    private readonly List<ByteString> _initializers = [];
    private readonly List<ByteString> _inputs = [];
    private readonly List<ByteString> _outputs = [];
    private readonly Dictionary<long, string> _scalars = [];
    private int _next;

    /// <summary>Declares a graph input; a null dimension is dynamic.</summary>
    public string Input(string name, OnnxElementType type, params long?[] dims)
    {
        _inputs.Add(ValueInfo(name, type, dims));
        return name;
    }

    /// <summary>Declares <paramref name="value"/> a graph output named <paramref name="name"/>.</summary>
    public void Output(string name, string value, OnnxElementType type, params long?[] dims)
    {
        if (value != name)
        {
            Node("Identity", [value], [name]);
        }

        _outputs.Add(ValueInfo(name, type, dims));
    }

    /// <summary>A float constant tensor of <paramref name="dims"/>.</summary>
    public string Weight(ReadOnlySpan<float> data, params long[] dims) => Constant(OnnxElementType.Float, MemoryMarshal.AsBytes(data), dims);

    /// <summary>A float16 constant tensor (the values rounded to half precision).</summary>
    public string WeightHalf(ReadOnlySpan<float> data, params long[] dims)
    {
        var halves = new Half[data.Length];
        for (var i = 0; i < data.Length; i++)
        {
            halves[i] = (Half)data[i];
        }

        return Constant(OnnxElementType.Float16, MemoryMarshal.AsBytes(halves.AsSpan()), dims);
    }

    /// <summary>An int8 constant tensor of <paramref name="dims"/>.</summary>
    public string WeightInt8(ReadOnlySpan<sbyte> data, params long[] dims) => Constant(OnnxElementType.Int8, MemoryMarshal.AsBytes(data), dims);

    /// <summary>A one-dimensional int64 constant (shapes, axes, slice bounds).</summary>
    public string Int64s(params long[] values) => Constant(OnnxElementType.Int64, MemoryMarshal.AsBytes(values.AsSpan()), values.Length);

    /// <summary>A float scalar constant (cached per value).</summary>
    public string Scalar(float value)
    {
        var key = BitConverter.SingleToInt32Bits(value);
        if (!_scalars.TryGetValue(key, out var name))
        {
            name = Constant(OnnxElementType.Float, MemoryMarshal.AsBytes([value]), []);
            _scalars[key] = name;
        }

        return name;
    }

    /// <summary>Adds a node with one output and returns the output's name.</summary>
    public string Op(string opType, params string[] operands) => Node(opType, operands, [Fresh()])[0];

    /// <summary>Adds a node with one output and attributes.</summary>
    public string Op(string opType, string[] operands, params Attribute[] attributes) => Node(opType, operands, [Fresh()], attributes)[0];

    /// <summary>Adds a node with named outputs.</summary>
    public string[] Node(string opType, string[] operands, string[] results, params Attribute[] attributes)
    {
        _nodes.Add(Message(o =>
        {
            foreach (var operand in operands)
            {
                o.WriteTag(1, WireFormat.WireType.LengthDelimited);
                o.WriteString(operand);
            }

            foreach (var result in results)
            {
                o.WriteTag(2, WireFormat.WireType.LengthDelimited);
                o.WriteString(result);
            }

            WriteString(o, 3, $"n{_next++}");
            WriteString(o, 4, opType);
            foreach (var attribute in attributes)
            {
                WriteMessage(o, 5, attribute.Encode());
            }
        }));
        return results;
    }

    /// <summary>The model's protobuf bytes.</summary>
    public byte[] ToBytes(string graphName)
    {
        var graph = Message(o =>
        {
            foreach (var node in _nodes)
            {
                WriteMessage(o, 1, node);
            }

            WriteString(o, 2, graphName);
            foreach (var initializer in _initializers)
            {
                WriteMessage(o, 5, initializer);
            }

            foreach (var input in _inputs)
            {
                WriteMessage(o, 11, input);
            }

            foreach (var output in _outputs)
            {
                WriteMessage(o, 12, output);
            }
        });
        var opset = Message(o =>
        {
            WriteString(o, 1, "");
            o.WriteTag(2, WireFormat.WireType.Varint);
            o.WriteInt64(OpsetVersion);
        });
        return Message(o =>
        {
            o.WriteTag(1, WireFormat.WireType.Varint);
            o.WriteInt64(IrVersion);
            WriteString(o, 2, "moemesh");
            WriteMessage(o, 7, graph);
            WriteMessage(o, 8, opset);
        }).ToByteArray();
    }

    private string Fresh() => $"t{_next++}";

    private string Constant(OnnxElementType type, ReadOnlySpan<byte> raw, params long[] dims)
    {
        var name = Fresh();
        var data = UnsafeByteOperations.UnsafeWrap(raw.ToArray());
        _initializers.Add(Message(o =>
        {
            foreach (var dim in dims)
            {
                o.WriteTag(1, WireFormat.WireType.Varint);
                o.WriteInt64(dim);
            }

            o.WriteTag(2, WireFormat.WireType.Varint);
            o.WriteInt32((int)type);
            WriteString(o, 8, name);
            o.WriteTag(9, WireFormat.WireType.LengthDelimited);
            o.WriteBytes(data);
        }));
        return name;
    }

    private static ByteString ValueInfo(string name, OnnxElementType type, long?[] dims)
    {
        var shape = Message(o =>
        {
            foreach (var dim in dims)
            {
                WriteMessage(o, 1, Message(d =>
                {
                    if (dim is { } value)
                    {
                        d.WriteTag(1, WireFormat.WireType.Varint);
                        d.WriteInt64(value);
                    }
                }));
            }
        });
        var tensorType = Message(o =>
        {
            o.WriteTag(1, WireFormat.WireType.Varint);
            o.WriteInt32((int)type);
            WriteMessage(o, 2, shape);
        });
        var typeProto = Message(o => WriteMessage(o, 1, tensorType));
        return Message(o =>
        {
            WriteString(o, 1, name);
            WriteMessage(o, 2, typeProto);
        });
    }

    internal static ByteString Message(Action<CodedOutputStream> write)
    {
        using var buffer = new MemoryStream();
        using (var output = new CodedOutputStream(buffer, leaveOpen: true))
        {
            write(output);
        }

        return UnsafeByteOperations.UnsafeWrap(buffer.ToArray());
    }

    internal static void WriteString(CodedOutputStream output, int field, string value)
    {
        output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        output.WriteString(value);
    }

    internal static void WriteMessage(CodedOutputStream output, int field, ByteString message)
    {
        output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(message);
    }

    /// <summary>A node attribute (<c>AttributeProto</c>): an int, a float or a list of ints.</summary>
    public sealed class Attribute
    {
        private readonly Action<CodedOutputStream> _write;

        private Attribute(Action<CodedOutputStream> write) => _write = write;

        public static Attribute Int(string name, long value) => new(o =>
        {
            WriteString(o, 1, name);
            o.WriteTag(3, WireFormat.WireType.Varint);
            o.WriteInt64(value);
            o.WriteTag(20, WireFormat.WireType.Varint);
            o.WriteInt32(2);
        });

        public static Attribute Float(string name, float value) => new(o =>
        {
            WriteString(o, 1, name);
            o.WriteTag(2, WireFormat.WireType.Fixed32);
            o.WriteFloat(value);
            o.WriteTag(20, WireFormat.WireType.Varint);
            o.WriteInt32(1);
        });

        public static Attribute Ints(string name, params long[] values) => new(o =>
        {
            WriteString(o, 1, name);
            foreach (var value in values)
            {
                o.WriteTag(8, WireFormat.WireType.Varint);
                o.WriteInt64(value);
            }

            o.WriteTag(20, WireFormat.WireType.Varint);
            o.WriteInt32(7);
        });

        internal ByteString Encode() => Message(_write);
    }
}
