using System.Text;
using MoeMesh.Inference.Generation;

namespace MoeMesh.Inference.Tests.Generation;

public sealed class Utf8TextAssemblerTests
{
    [Theory]
    [InlineData("é")]
    [InlineData("€")]
    [InlineData("😀")]
    [InlineData("a日本語b")]
    [InlineData("mixé€😀 text")]
    public void Characters_split_at_any_byte_come_out_whole(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        for (var cut = 0; cut <= bytes.Length; cut++)
        {
            var assembler = new Utf8TextAssembler();
            var first = assembler.Append(bytes.AsSpan(0, cut));
            var second = assembler.Append(bytes.AsSpan(cut));
            Assert.Equal(text, first + second + assembler.Flush());
            Assert.False(first.Contains('\uFFFD') || second.Contains('\uFFFD'));
        }
    }

    [Fact]
    public void One_byte_at_a_time_never_emits_half_a_character()
    {
        const string text = "héllo wörld 日本 😀!";
        var assembler = new Utf8TextAssembler();
        var pieces = Encoding.UTF8.GetBytes(text).Select(b => assembler.Append([b])).ToList();
        Assert.Equal(text, string.Concat(pieces) + assembler.Flush());
        Assert.All(pieces, piece => Assert.True(piece.Length == 0 || !char.IsHighSurrogate(piece[^1])));
    }

    [Fact]
    public void Invalid_bytes_decode_as_a_one_shot_decoder_would()
    {
        byte[] bytes = [0x61, 0xE2, 0x82, 0x62, 0xFF, 0xC3];
        var expected = Encoding.UTF8.GetString(bytes);
        var assembler = new Utf8TextAssembler();
        var streamed = string.Concat(bytes.Select(b => assembler.Append([b]))) + assembler.Flush();
        Assert.Equal(expected, streamed);
    }
}
