using System.Globalization;

namespace MoeMesh.Cli.Models.Hub;

/// <summary>
/// A download's progress on stderr: percent, megabytes and speed. On a terminal one line is redrawn
/// at most five times a second; elsewhere (logs, pipes) a line is written every tenth of the file.
/// </summary>
public sealed class DownloadProgress
{
    private const int BarWidth = 24;
    private static readonly TimeSpan RedrawInterval = TimeSpan.FromMilliseconds(200);
    private readonly TextWriter _output;
    private readonly string _label;
    private readonly bool _redraw;
    private readonly TimeProvider _time;
    private readonly long _startTimestamp;
    private long? _lastDrawTimestamp;
    private int _lastDecile = -1;
    private long _startBytes = -1;
    private long _lastWrittenBytes = -1;

    public DownloadProgress(TextWriter output, string label, TimeProvider? time = null, bool? redraw = null)
    {
        _output = output;
        _label = label;
        _time = time ?? TimeProvider.System;
        _redraw = redraw ?? (ReferenceEquals(output, Console.Error) && !Console.IsErrorRedirected);
        _startTimestamp = _time.GetTimestamp();
    }

    /// <summary>Reports <paramref name="done"/> of <paramref name="total"/> bytes (total unknown: null).</summary>
    public void Report(long done, long? total, bool final = false)
    {
        if (_startBytes < 0)
        {
            _startBytes = done;
        }

        var now = _time.GetTimestamp();
        if (_redraw)
        {
            if (final || _lastDrawTimestamp is not { } last || _time.GetElapsedTime(last, now) >= RedrawInterval)
            {
                _lastDrawTimestamp = now;
                _output.Write("\r" + Line(done, total, now).PadRight(78));
                if (final)
                {
                    _output.WriteLine();
                }

                _output.Flush();
            }

            return;
        }

        var decile = total is > 0 ? (int)(done * 10 / total.Value) : (int)(done / (100L * 1000 * 1000));
        if ((final && done != _lastWrittenBytes) || decile > _lastDecile)
        {
            _lastDecile = decile;
            _lastWrittenBytes = done;
            _output.WriteLine(Line(done, total, now));
        }
    }

    /// <summary>The progress line: label, percent and bar, megabytes done of the total, speed.</summary>
    internal string Line(long done, long? total, long now)
    {
        var c = CultureInfo.InvariantCulture;
        var seconds = _time.GetElapsedTime(_startTimestamp, now).TotalSeconds;
        var speed = seconds > 0 ? (done - Math.Max(_startBytes, 0)) / 1e6 / seconds : 0;
        if (total is not > 0)
        {
            return string.Create(c, $"  {_label}  {done / 1e6:0.0} MB  {speed:0.0} MB/s");
        }

        var fraction = Math.Clamp(done / (double)total.Value, 0, 1);
        var filled = (int)Math.Round(fraction * BarWidth);
        var bar = new string('#', filled) + new string('.', BarWidth - filled);
        return string.Create(c, $"  {_label} {fraction * 100,3:0}% [{bar}] {done / 1e6:0.0}/{total.Value / 1e6:0.0} MB  {speed:0.0} MB/s");
    }
}
