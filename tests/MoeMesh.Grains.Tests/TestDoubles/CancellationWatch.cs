using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using MoeMesh.Grains.Telemetry;

namespace MoeMesh.Grains.Tests.TestDoubles;

/// <summary>
/// How many times the cancellation tests run each case: <c>MOEMESH_TEST_REPEAT</c> (default 1), so
/// a flaky case can be run many times in the shared collection, e.g.
/// <c>MOEMESH_TEST_REPEAT=20 dotnet test tests/MoeMesh.Grains.Tests --filter FullyQualifiedName~Cancellation</c>.
/// </summary>
public static class Repeat
{
    public static TheoryData<int> Runs()
    {
        var count = int.TryParse(Environment.GetEnvironmentVariable("MOEMESH_TEST_REPEAT"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n)
            ? Math.Clamp(n, 1, 200)
            : 1;
        var data = new TheoryData<int>();
        for (var i = 1; i <= count; i++)
        {
            data.Add(i);
        }

        return data;
    }
}

/// <summary>Records the silos' count of generations still running after cancellation as it changes.</summary>
public sealed class CancelledRunningMeter : IDisposable
{
    private readonly MeterListener _listener = new();

    public CancelledRunningMeter()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == MoeMeshInstrumentation.MeterName && instrument.Name == MoeMeshInstrumentation.CancelledGenerationsRunning.Name)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Changes.Enqueue((value, Stopwatch.GetTimestamp())));
        _listener.Start();
    }

    /// <summary>Each change (+1 when a running generation is cancelled, -1 when it ends) and when.</summary>
    public ConcurrentQueue<(long Delta, long At)> Changes { get; } = new();

    public void Dispose() => _listener.Dispose();
}

public static class Eventually
{
    /// <summary>Waits for <paramref name="condition"/>, checking every 10 ms, at most <paramref name="within"/>.</summary>
    public static Task<bool> HoldsAsync(Func<bool> condition, TimeSpan within)
        => HoldsAsync(() => Task.FromResult(condition()), within);

    /// <summary>Waits for an asynchronous <paramref name="condition"/>, so no thread blocks on a grain call.</summary>
    public static async Task<bool> HoldsAsync(Func<Task<bool>> condition, TimeSpan within)
    {
        var waited = Stopwatch.StartNew();
        while (!await condition())
        {
            if (waited.Elapsed > within)
            {
                return false;
            }

            await Task.Delay(10);
        }

        return true;
    }
}
