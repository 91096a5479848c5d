using System.Globalization;

namespace MoeMesh.Inference.Gguf;

/// <summary>
/// One GGUF metadata value: a scalar, a string, or an array of one element type. Arrays hold a
/// typed .NET array (<c>string[]</c>, <c>float[]</c>, <c>int[]</c>, … or <see cref="GgufValue"/>[]
/// for arrays of arrays).
/// </summary>
public sealed class GgufValue : IEquatable<GgufValue>
{
    private readonly object _value;

    private GgufValue(GgufValueType type, object value, GgufValueType elementType = default)
    {
        Type = type;
        _value = value;
        ElementType = elementType;
    }

    /// <summary>The value's type.</summary>
    public GgufValueType Type { get; }

    /// <summary>For arrays, the type of the elements.</summary>
    public GgufValueType ElementType { get; }

    /// <summary>True for arrays.</summary>
    public bool IsArray => Type == GgufValueType.Array;

    /// <summary>Elements of an array; 0 for scalars.</summary>
    public int ArrayLength => _value is Array array ? array.Length : 0;

    /// <summary>The boxed scalar, string or typed array.</summary>
    public object RawValue => _value;

    public static GgufValue FromUInt8(byte value) => new(GgufValueType.UInt8, value);

    public static GgufValue FromInt8(sbyte value) => new(GgufValueType.Int8, value);

    public static GgufValue FromUInt16(ushort value) => new(GgufValueType.UInt16, value);

    public static GgufValue FromInt16(short value) => new(GgufValueType.Int16, value);

    public static GgufValue FromUInt32(uint value) => new(GgufValueType.UInt32, value);

    public static GgufValue FromInt32(int value) => new(GgufValueType.Int32, value);

    public static GgufValue FromFloat32(float value) => new(GgufValueType.Float32, value);

    public static GgufValue FromBool(bool value) => new(GgufValueType.Bool, value);

    public static GgufValue FromString(string value) => new(GgufValueType.String, value ?? throw new ArgumentNullException(nameof(value)));

    public static GgufValue FromUInt64(ulong value) => new(GgufValueType.UInt64, value);

    public static GgufValue FromInt64(long value) => new(GgufValueType.Int64, value);

    public static GgufValue FromFloat64(double value) => new(GgufValueType.Float64, value);

    public static GgufValue FromArray(string[] items) => new(GgufValueType.Array, items, GgufValueType.String);

    public static GgufValue FromArray(float[] items) => new(GgufValueType.Array, items, GgufValueType.Float32);

    public static GgufValue FromArray(int[] items) => new(GgufValueType.Array, items, GgufValueType.Int32);

    /// <summary>
    /// An array of <paramref name="elementType"/>; <paramref name="items"/> must be the matching .NET
    /// array type (<c>byte[]</c> for UInt8, <c>bool[]</c> for Bool, <see cref="GgufValue"/>[] of arrays for Array, …).
    /// </summary>
    public static GgufValue FromArray(GgufValueType elementType, Array items)
    {
        ArgumentNullException.ThrowIfNull(items);
        var expected = ClrArrayType(elementType);
        if (items.GetType() != expected)
        {
            throw new ArgumentException($"A GGUF array of {elementType} needs a {expected.Name}, got {items.GetType().Name}.", nameof(items));
        }

        if (elementType == GgufValueType.Array && items.Cast<GgufValue>().Any(v => !v.IsArray))
        {
            throw new ArgumentException("Every element of an array of arrays must itself be an array.", nameof(items));
        }

        return new GgufValue(GgufValueType.Array, items, elementType);
    }

    /// <summary>The .NET array type that holds elements of <paramref name="elementType"/>.</summary>
    public static Type ClrArrayType(GgufValueType elementType) => elementType switch
    {
        GgufValueType.UInt8 => typeof(byte[]),
        GgufValueType.Int8 => typeof(sbyte[]),
        GgufValueType.UInt16 => typeof(ushort[]),
        GgufValueType.Int16 => typeof(short[]),
        GgufValueType.UInt32 => typeof(uint[]),
        GgufValueType.Int32 => typeof(int[]),
        GgufValueType.Float32 => typeof(float[]),
        GgufValueType.Bool => typeof(bool[]),
        GgufValueType.String => typeof(string[]),
        GgufValueType.UInt64 => typeof(ulong[]),
        GgufValueType.Int64 => typeof(long[]),
        GgufValueType.Float64 => typeof(double[]),
        GgufValueType.Array => typeof(GgufValue[]),
        _ => throw new ArgumentOutOfRangeException(nameof(elementType), elementType, "Unknown GGUF value type."),
    };

    /// <summary>The string; throws when the value is not a string.</summary>
    public string AsString() => _value as string ?? throw WrongType("a string");

    /// <summary>The boolean; throws when the value is not a bool.</summary>
    public bool AsBool() => _value is bool b ? b : throw WrongType("a bool");

    /// <summary>Any integer value widened to <see cref="long"/>; throws for other types or a UInt64 above <see cref="long.MaxValue"/>.</summary>
    public long AsInt64() => _value switch
    {
        byte v => v,
        sbyte v => v,
        ushort v => v,
        short v => v,
        uint v => v,
        int v => v,
        long v => v,
        ulong v when v <= long.MaxValue => (long)v,
        _ => throw WrongType("an integer that fits in 64 signed bits"),
    };

    /// <summary>Any numeric value as <see cref="double"/>; throws for strings, bools and arrays.</summary>
    public double AsDouble() => _value switch
    {
        float v => v,
        double v => v,
        ulong v => v,
        _ when !IsArray && Type is not (GgufValueType.String or GgufValueType.Bool) => AsInt64(),
        _ => throw WrongType("a number"),
    };

    /// <summary>The typed array (for example <c>AsArray&lt;string&gt;()</c>); throws when the element type differs.</summary>
    public T[] AsArray<T>() => _value as T[] ?? throw WrongType($"an array of {typeof(T).Name}");

    public bool Equals(GgufValue? other)
    {
        if (other is null || other.Type != Type || other.ElementType != ElementType)
        {
            return false;
        }

        if (_value is Array left && other._value is Array right)
        {
            if (left.Length != right.Length)
            {
                return false;
            }

            for (var i = 0; i < left.Length; i++)
            {
                if (!Equals(left.GetValue(i), right.GetValue(i)))
                {
                    return false;
                }
            }

            return true;
        }

        return _value.Equals(other._value);
    }

    public override bool Equals(object? obj) => Equals(obj as GgufValue);

    public override int GetHashCode() => _value is Array array ? HashCode.Combine(Type, ElementType, array.Length) : HashCode.Combine(Type, _value);

    /// <summary>A short display form: scalars as text, strings quoted and cut at 80 characters, arrays as type and length.</summary>
    public override string ToString()
    {
        return _value switch
        {
            string s => "\"" + (s.Length > 80 ? s[..77] + "..." : s).ReplaceLineEndings("\\n") + "\"",
            Array a => $"[{ElementType} × {a.Length}]",
            bool b => b ? "true" : "false",
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => _value.ToString() ?? "",
        };
    }

    private InvalidOperationException WrongType(string wanted) =>
        new($"The GGUF value is {(IsArray ? $"an array of {ElementType}" : Type.ToString())}, not {wanted}.");
}
