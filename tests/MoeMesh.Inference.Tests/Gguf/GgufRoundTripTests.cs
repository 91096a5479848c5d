using MoeMesh.Inference.Gguf;
using MoeMesh.Inference.Tests.TestSupport;

namespace MoeMesh.Inference.Tests.Gguf;

public sealed class GgufRoundTripTests
{
    [Theory]
    [InlineData(3u, 32)]
    [InlineData(2u, 32)]
    [InlineData(3u, 64)]
    public void Everything_written_is_read_back(uint version, int alignment)
    {
        var writer = new GgufWriter(version, alignment)
            .Set("u8", GgufValue.FromUInt8(200))
            .Set("i8", GgufValue.FromInt8(-100))
            .Set("u16", GgufValue.FromUInt16(60000))
            .Set("i16", GgufValue.FromInt16(-30000))
            .Set("u32", GgufValue.FromUInt32(4_000_000_000))
            .Set("i32", GgufValue.FromInt32(-2_000_000_000))
            .Set("f32", GgufValue.FromFloat32(3.25f))
            .Set("bool", GgufValue.FromBool(true))
            .Set("string", GgufValue.FromString("héllo wörld 😀"))
            .Set("empty", GgufValue.FromString(""))
            .Set("u64", GgufValue.FromUInt64(ulong.MaxValue))
            .Set("i64", GgufValue.FromInt64(long.MinValue))
            .Set("f64", GgufValue.FromFloat64(-1.5e300))
            .Set("strings", GgufValue.FromArray(["a", "", "ünïcode"]))
            .Set("floats", GgufValue.FromArray([1f, -2f, float.MaxValue]))
            .Set("ints", GgufValue.FromArray([1, -2, int.MaxValue]))
            .Set("bools", GgufValue.FromArray(GgufValueType.Bool, new[] { true, false, true }))
            .Set("u64s", GgufValue.FromArray(GgufValueType.UInt64, new ulong[] { 0, ulong.MaxValue }))
            .Set("doubles", GgufValue.FromArray(GgufValueType.Float64, new[] { 0.5, -0.25 }))
            .Set("bytes", GgufValue.FromArray(GgufValueType.UInt8, new byte[] { 1, 2, 255 }))
            .Set("nested", GgufValue.FromArray(GgufValueType.Array, new[] { GgufValue.FromArray([1, 2]), GgufValue.FromArray(["x"]) }))
            .Set("empty_array", GgufValue.FromArray(Array.Empty<string>()));

        var first = Enumerable.Range(0, 6 * 5).Select(i => (float)i).ToArray();
        var second = Enumerable.Range(0, 40).Select(i => (byte)i).ToArray();
        writer.AddTensor("first.weight", GgmlType.F32, [6, 5], System.Runtime.InteropServices.MemoryMarshal.AsBytes(first.AsSpan()).ToArray());
        writer.AddTensor("second.weight", GgmlType.F16, [20], stream => stream.Write(second));
        writer.AddTensor("third.weight", GgmlType.Q8_0, [32, 2], new byte[68]);

        using var stream = new MemoryStream();
        writer.WriteTo(stream);
        stream.Position = 0;
        var file = GgufReader.Read(stream);

        Assert.Equal(version, file.Version);
        Assert.Equal(alignment, file.Alignment);
        var expected = writer.Metadata;
        Assert.Equal(expected.Select(kv => kv.Key), file.Metadata.Select(kv => kv.Key));
        foreach (var (key, value) in expected)
        {
            Assert.Equal(value, file[key]);
        }

        Assert.Equal(["first.weight", "second.weight", "third.weight"], file.Tensors.Select(t => t.Name));
        Assert.Equal([6L, 5L], file.Tensors[0].Shape);
        Assert.Equal(120, file.Tensors[0].ByteSize);
        Assert.Equal(40, file.Tensors[1].ByteSize);
        Assert.Equal(GgmlType.Q8_0, file.Tensors[2].Type);
        Assert.Equal(68, file.Tensors[2].ByteSize);
        Assert.All(file.Tensors, t => Assert.Equal(0, t.Offset % alignment));
        Assert.Equal(0, file.DataOffset % alignment);

        // The data sits where the header says it does.
        var data = stream.ToArray();
        var firstBytes = data.AsSpan((int)(file.DataOffset + file.Tensors[0].Offset), 120);
        Assert.Equal(first, System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(firstBytes).ToArray());
        Assert.Equal(second, data.AsSpan((int)(file.DataOffset + file.Tensors[1].Offset), 40).ToArray());
    }

    [Fact]
    public void Writing_to_a_path_replaces_the_file_whole_and_reads_back()
    {
        using var directory = new TemporaryDirectory();
        var path = directory.File("model.gguf");
        File.WriteAllText(path, "old");
        new GgufWriter().Set("general.architecture", "llama").AddTensor("t", GgmlType.F32, [4], new byte[16]).WriteTo(path);

        var file = GgufReader.Read(path);
        Assert.Equal("llama", file.Architecture);
        Assert.Equal(new FileInfo(path).Length, file.FileSize);
        Assert.Single(Directory.GetFiles(directory.Path));
    }

    [Fact]
    public void Setting_a_key_twice_keeps_one_entry_with_the_last_value()
    {
        var writer = new GgufWriter().Set("k", "first").Set("other", 1u).Set("k", "second");
        Assert.Equal(["k", "other"], writer.Metadata.Select(kv => kv.Key));
        Assert.Equal("second", writer.Metadata[0].Value.AsString());
    }

    [Fact]
    public void Tensor_callbacks_that_write_the_wrong_size_are_refused()
    {
        var writer = new GgufWriter().AddTensor("t", GgmlType.F32, [4], stream => stream.Write(new byte[15]));
        var error = Assert.Throws<InvalidOperationException>(() => writer.WriteTo(new MemoryStream()));
        Assert.Contains("'t'", error.Message);
    }

    [Fact]
    public void Values_convert_between_numeric_types_and_refuse_wrong_ones()
    {
        Assert.Equal(7, GgufValue.FromUInt8(7).AsInt64());
        Assert.Equal(-3, GgufValue.FromInt16(-3).AsInt64());
        Assert.Equal(2.5, GgufValue.FromFloat32(2.5f).AsDouble());
        Assert.Equal(9.0, GgufValue.FromUInt32(9).AsDouble());
        Assert.Throws<InvalidOperationException>(() => GgufValue.FromString("x").AsInt64());
        Assert.Throws<InvalidOperationException>(() => GgufValue.FromUInt64(ulong.MaxValue).AsInt64());
        Assert.Throws<InvalidOperationException>(() => GgufValue.FromArray([1, 2]).AsArray<string>());
        Assert.Throws<ArgumentException>(() => GgufValue.FromArray(GgufValueType.Int32, new long[] { 1 }));
    }
}
