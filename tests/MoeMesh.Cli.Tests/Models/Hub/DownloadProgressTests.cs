using Microsoft.Extensions.Time.Testing;
using MoeMesh.Cli.Models.Hub;

namespace MoeMesh.Cli.Tests.Models.Hub;

public sealed class DownloadProgressTests
{
    [Fact]
    public void Off_a_terminal_it_writes_a_line_per_tenth_with_percent_megabytes_and_speed()
    {
        var time = new FakeTimeProvider();
        using var output = new StringWriter();
        var progress = new DownloadProgress(output, "model.gguf", time, redraw: false);

        for (var done = 0L; done <= 100_000_000; done += 5_000_000)
        {
            progress.Report(done, 100_000_000);
            time.Advance(TimeSpan.FromSeconds(0.5));
        }

        progress.Report(100_000_000, 100_000_000, final: true);

        var lines = output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(11, lines.Length);
        Assert.Equal("  model.gguf 100% [########################] 100.0/100.0 MB  10.0 MB/s", lines[^1]);
        Assert.Contains(" 50% [############............] 50.0/100.0 MB", lines[5]);
    }

    [Fact]
    public void On_a_terminal_it_redraws_one_line_at_most_five_times_a_second()
    {
        var time = new FakeTimeProvider();
        using var output = new StringWriter();
        var progress = new DownloadProgress(output, "m.gguf", time, redraw: true);

        for (var i = 1; i <= 100; i++)
        {
            progress.Report(i * 1_000_000L, null);
            time.Advance(TimeSpan.FromMilliseconds(20));
        }

        progress.Report(100_000_000, null, final: true);

        var text = output.ToString();
        Assert.InRange(text.Count(c => c == '\r'), 10, 13);
        Assert.EndsWith(Environment.NewLine, text);
        Assert.Contains("100.0 MB", text);
    }
}
