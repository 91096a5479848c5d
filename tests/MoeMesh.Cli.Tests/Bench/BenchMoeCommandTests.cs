namespace MoeMesh.Cli.Tests.Bench;

public sealed class BenchMoeCommandTests
{
    [Theory]
    [InlineData("-1")]
    [InlineData("9")]
    public async Task An_impossible_silo_count_is_bad_input(string silos)
    {
        var (code, _, error) = await CliRunner.RunAsync("bench", "moe", "--silos", silos);

        Assert.Equal(2, code);
        Assert.Contains("--silos must be 0 to 8", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Impossible_benchmark_options_are_bad_input_before_any_silo_starts()
    {
        var (code, _, error) = await CliRunner.RunAsync("bench", "moe", "--tokens", "0", "--silos", "2");

        Assert.Equal(2, code);
        Assert.StartsWith("error:", error, StringComparison.Ordinal);
        Assert.DoesNotContain("started silo", error, StringComparison.Ordinal);
    }
}
