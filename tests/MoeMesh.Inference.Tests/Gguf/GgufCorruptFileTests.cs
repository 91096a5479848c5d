using System.Text;
using MoeMesh.Inference.Gguf;

namespace MoeMesh.Inference.Tests.Gguf;

public sealed class GgufCorruptFileTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    public void A_file_too_short_for_the_magic_is_rejected(int length)
    {
        var error = Read(new byte[length]);
        Assert.Equal("header.magic", error.Field);
        Assert.Contains("too short", error.Message);
    }

    [Theory]
    [InlineData(6, "header.version")]
    [InlineData(12, "header.tensor_count")]
    [InlineData(20, "header.metadata_kv_count")]
    public void A_truncated_header_names_the_field_it_stopped_in(int length, string field)
    {
        var error = Read(new RawGguf().Build()[..length]);
        Assert.Equal(field, error.Field);
        Assert.Contains("truncated", error.Message);
    }

    [Fact]
    public void A_wrong_magic_is_rejected_with_what_was_found()
    {
        var bytes = new RawGguf().Build();
        bytes[3] = (byte)'X';
        var error = Read(bytes);
        Assert.Equal("header.magic", error.Field);
        Assert.Equal(0, error.Offset);
        Assert.Contains("GGUX", error.Message);
    }

    [Theory]
    [InlineData(1u, "obsolete")]
    [InlineData(4u, "only versions")]
    [InlineData(0x03000000u, "byte-swapped")]
    public void Unsupported_versions_are_rejected(uint version, string hint)
    {
        var error = Read(new RawGguf { Version = version }.Build());
        Assert.Equal("header.version", error.Field);
        Assert.Contains(hint, error.Message);
    }

    [Theory]
    [InlineData(1UL << 60)]
    [InlineData(1000UL)]
    public void An_absurd_tensor_count_is_rejected_before_allocating(ulong count)
    {
        var error = Read(new RawGguf { TensorCountOverride = count }.Build());
        Assert.Equal("header.tensor_count", error.Field);
        Assert.Equal(8, error.Offset);
        Assert.Contains($"declares {count} tensors", error.Message);
    }

    [Fact]
    public void An_absurd_metadata_count_is_rejected()
    {
        var error = Read(new RawGguf { MetadataCountOverride = 1UL << 40 }.Build());
        Assert.Equal("header.metadata_kv_count", error.Field);
        Assert.Equal(16, error.Offset);
    }

    [Fact]
    public void An_absurd_string_length_is_rejected()
    {
        var raw = new RawGguf();
        raw.Metadata.Add(RawGguf.Entry("general.name", GgufValueType.String, RawGguf.StringBytes("x")));
        var bytes = raw.Build();
        BitConverter.GetBytes(1UL << 50).CopyTo(bytes, 24);
        var error = Read(bytes);
        Assert.Equal("metadata[0].key", error.Field);
        Assert.Equal(24, error.Offset);
    }

    [Fact]
    public void An_absurd_array_length_is_rejected()
    {
        var raw = new RawGguf();
        var value = new List<byte>();
        value.AddRange(BitConverter.GetBytes((uint)GgufValueType.Float32));
        value.AddRange(BitConverter.GetBytes(1UL << 40));
        raw.Metadata.Add(RawGguf.Entry("scores", GgufValueType.Array, [.. value]));
        var error = Read(raw.Build());
        Assert.Equal("metadata['scores'].length", error.Field);
    }

    [Fact]
    public void Data_cut_short_is_rejected_naming_the_tensor()
    {
        var raw = new RawGguf();
        raw.Tensors.Add(new RawTensor("a.weight", [8], GgmlType.F32, 0));
        raw.Tensors.Add(new RawTensor("b.weight", [8], GgmlType.F32, 32));
        raw.DataBytes = 64;
        var bytes = raw.Build();
        Assert.Equal(2, GgufReader.Read(new MemoryStream(bytes)).Tensors.Count);

        var error = Read(bytes[..^10]);
        Assert.Equal("tensor 'b.weight'.offset", error.Field);
        Assert.Contains("truncated", error.Message);
    }

    [Fact]
    public void A_tensor_offset_past_the_end_is_rejected()
    {
        var raw = new RawGguf { DataBytes = 32 };
        raw.Tensors.Add(new RawTensor("a.weight", [8], GgmlType.F32, 1L << 40));
        var error = Read(raw.Build());
        Assert.Equal("tensor 'a.weight'.offset", error.Field);
    }

    [Fact]
    public void A_misaligned_tensor_offset_is_rejected()
    {
        var raw = new RawGguf { DataBytes = 64 };
        raw.Tensors.Add(new RawTensor("a.weight", [8], GgmlType.F32, 4));
        var error = Read(raw.Build());
        Assert.Equal("tensor 'a.weight'.offset", error.Field);
        Assert.Contains("alignment 32", error.Message);
    }

    [Fact]
    public void Overlapping_tensors_are_rejected()
    {
        var raw = new RawGguf { DataBytes = 64 };
        raw.Tensors.Add(new RawTensor("a.weight", [16], GgmlType.F32, 0));
        raw.Tensors.Add(new RawTensor("b.weight", [8], GgmlType.F32, 32));
        var error = Read(raw.Build());
        Assert.Contains("overlap", error.Message);
    }

    [Theory]
    [InlineData(4u)]
    [InlineData(999u)]
    public void An_unknown_tensor_type_is_rejected(uint type)
    {
        var raw = new RawGguf { DataBytes = 32 };
        raw.Tensors.Add(new RawTensor("a.weight", [8], (GgmlType)type, 0));
        var error = Read(raw.Build());
        Assert.Equal("tensor 'a.weight'.type", error.Field);
        Assert.Contains($"unknown element type {type}", error.Message);
    }

    [Fact]
    public void Rows_that_are_not_whole_blocks_are_rejected()
    {
        var raw = new RawGguf { DataBytes = 64 };
        raw.Tensors.Add(new RawTensor("a.weight", [30], GgmlType.Q4_0, 0));
        var error = Read(raw.Build());
        Assert.Contains("block size 32", error.Message);
    }

    [Fact]
    public void Too_many_dimensions_are_rejected()
    {
        var raw = new RawGguf { DataBytes = 32 };
        raw.Tensors.Add(new RawTensor("a.weight", [1, 1, 1, 1, 1, 8], GgmlType.F32, 0));
        var error = Read(raw.Build());
        Assert.Equal("tensor 'a.weight'.n_dims", error.Field);
    }

    [Fact]
    public void An_absurd_shape_is_rejected()
    {
        var raw = new RawGguf { DataBytes = 32 };
        raw.Tensors.Add(new RawTensor("a.weight", [1L << 40, 1L << 40], GgmlType.F32, 0));
        var error = Read(raw.Build());
        Assert.Contains("absurd shape", error.Message);
    }

    [Fact]
    public void Duplicate_keys_and_tensor_names_are_rejected()
    {
        var keys = new RawGguf();
        keys.Metadata.Add(RawGguf.Entry("k", GgufValueType.UInt32, BitConverter.GetBytes(1u)));
        keys.Metadata.Add(RawGguf.Entry("k", GgufValueType.UInt32, BitConverter.GetBytes(2u)));
        Assert.Contains("appears twice", Read(keys.Build()).Message);

        var tensors = new RawGguf { DataBytes = 64 };
        tensors.Tensors.Add(new RawTensor("a", [8], GgmlType.F32, 0));
        tensors.Tensors.Add(new RawTensor("a", [8], GgmlType.F32, 32));
        Assert.Contains("appears twice", Read(tensors.Build()).Message);
    }

    [Theory]
    [InlineData(3u)]
    [InlineData(0u)]
    public void An_alignment_that_is_not_a_power_of_two_is_rejected(uint alignment)
    {
        var raw = new RawGguf();
        raw.Metadata.Add(RawGguf.Entry("general.alignment", GgufValueType.UInt32, BitConverter.GetBytes(alignment)));
        var error = Read(raw.Build());
        Assert.Equal("general.alignment", error.Field);
    }

    [Fact]
    public void An_alignment_of_the_wrong_type_is_rejected()
    {
        var raw = new RawGguf();
        raw.Metadata.Add(RawGguf.Entry("general.alignment", GgufValueType.Int32, BitConverter.GetBytes(32)));
        Assert.Contains("must be a UInt32", Read(raw.Build()).Message);
    }

    [Fact]
    public void Unknown_value_types_invalid_booleans_and_invalid_utf8_are_rejected()
    {
        var type = new RawGguf();
        type.Metadata.Add(RawGguf.Entry("k", (GgufValueType)13, []));
        Assert.Equal("metadata['k'].type", Read(type.Build()).Field);

        var boolean = new RawGguf();
        boolean.Metadata.Add(RawGguf.Entry("k", GgufValueType.Bool, [2]));
        Assert.Contains("must be 0 or 1", Read(boolean.Build()).Message);

        var text = new RawGguf();
        text.Metadata.Add(RawGguf.Entry("k", GgufValueType.String, [.. BitConverter.GetBytes(2UL), 0xC3, 0x28]));
        Assert.Contains("not valid UTF-8", Read(text.Build()).Message);
    }

    [Fact]
    public void Random_damage_to_a_real_header_only_ever_yields_a_format_error()
    {
        var raw = new RawGguf { DataBytes = 64 };
        raw.Metadata.Add(RawGguf.Entry("general.architecture", GgufValueType.String, RawGguf.StringBytes("llama")));
        var tokens = new List<byte>();
        tokens.AddRange(BitConverter.GetBytes((uint)GgufValueType.String));
        tokens.AddRange(BitConverter.GetBytes(3UL));
        foreach (var token in new[] { "<s>", "a", "b" })
        {
            tokens.AddRange(RawGguf.StringBytes(token));
        }

        raw.Metadata.Add(RawGguf.Entry("tokenizer.ggml.tokens", GgufValueType.Array, [.. tokens]));
        raw.Tensors.Add(new RawTensor("a.weight", [8], GgmlType.F32, 0));
        raw.Tensors.Add(new RawTensor("b.weight", [8], GgmlType.F32, 32));
        var original = raw.Build();
        var random = new Random(1234);
        var headerLength = original.Length - 64;
        for (var trial = 0; trial < 2000; trial++)
        {
            var damaged = (byte[])original.Clone();
            for (var flips = 1 + random.Next(3); flips > 0; flips--)
            {
                damaged[random.Next(headerLength)] = (byte)random.Next(256);
            }

            var length = random.Next(4) == 0 ? random.Next(damaged.Length) : damaged.Length;
            try
            {
                GgufReader.Read(new MemoryStream(damaged, 0, length));
            }
            catch (GgufFormatException)
            {
                // The only acceptable failure.
            }
        }
    }

    private static GgufFormatException Read(byte[] bytes) => Assert.Throws<GgufFormatException>(() => GgufReader.Read(new MemoryStream(bytes)));

    private sealed record RawTensor(string Name, long[] Shape, GgmlType Type, long Offset);

    /// <summary>Builds GGUF bytes field by field, so a test can put any value anywhere.</summary>
    private sealed class RawGguf
    {
        public uint Version { get; init; } = 3;

        public ulong? TensorCountOverride { get; init; }

        public ulong? MetadataCountOverride { get; init; }

        public List<byte[]> Metadata { get; } = [];

        public List<RawTensor> Tensors { get; } = [];

        public int DataBytes { get; set; }

        public static byte[] StringBytes(string text)
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            return [.. BitConverter.GetBytes((ulong)bytes.Length), .. bytes];
        }

        public static byte[] Entry(string key, GgufValueType type, byte[] value) =>
            [.. StringBytes(key), .. BitConverter.GetBytes((uint)type), .. value];

        public byte[] Build()
        {
            var bytes = new List<byte>();
            bytes.AddRange("GGUF"u8.ToArray());
            bytes.AddRange(BitConverter.GetBytes(Version));
            bytes.AddRange(BitConverter.GetBytes(TensorCountOverride ?? (ulong)Tensors.Count));
            bytes.AddRange(BitConverter.GetBytes(MetadataCountOverride ?? (ulong)Metadata.Count));
            foreach (var entry in Metadata)
            {
                bytes.AddRange(entry);
            }

            foreach (var tensor in Tensors)
            {
                bytes.AddRange(StringBytes(tensor.Name));
                bytes.AddRange(BitConverter.GetBytes((uint)tensor.Shape.Length));
                foreach (var dimension in tensor.Shape)
                {
                    bytes.AddRange(BitConverter.GetBytes(dimension));
                }

                bytes.AddRange(BitConverter.GetBytes((uint)tensor.Type));
                bytes.AddRange(BitConverter.GetBytes(tensor.Offset));
            }

            while (bytes.Count % 32 != 0)
            {
                bytes.Add(0);
            }

            bytes.AddRange(new byte[DataBytes]);
            return [.. bytes];
        }
    }
}
