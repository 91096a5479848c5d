using MoeMesh.Generation;

namespace MoeMesh.Cli.Bench;

/// <summary>
/// How well the run's own latencies can be explained after the fact: the figure a prediction made
/// before a query is sent should be compared with first, since the fit knows more than it does. Fitted by least squares on the finished records themselves: the time
/// of a run alone (queries at concurrency 1: a fixed cost plus prompt and generated tokens, each at
/// a rate), then the slowdown of every run over that time (its logarithm linear in the sequences its
/// engine decoded with it and in the other queries in flight when it was sent). Both fits see every
/// run's outcome, batch included, which no plan can know beforehand; what is left is variation
/// neither the request's shape nor the load the run met accounts for. Runs stopped by their deadline or cut short are left out, since their length was not
/// chosen by the request.
/// </summary>
public static class HindsightFit
{
    /// <summary>Fewer runs than this at concurrency 1 fit nothing.</summary>
    public const int MinSoloRuns = 8;

    /// <summary>The relative latency error of each run the fits explain; empty when there are too few runs.</summary>
    public static IReadOnlyList<double> LatencyErrors(IReadOnlyList<LiveQueryRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        var full = records.Where(r => r.Answered && r.FinishReason == FinishReason.MaxTokens && r.MeasuredLatencyMs > 0).ToList();
        var solo = full.Where(r => r.Concurrency == 1).ToList();
        if (solo.Count < MinSoloRuns)
        {
            return [];
        }

        var alone = LeastSquares(solo.Select(SoloFeatures).ToList(), solo.Select(r => r.MeasuredLatencyMs).ToList());
        var fitted = full.Select(r => (Record: r, Alone: Dot(alone, SoloFeatures(r)))).Where(x => x.Alone > 0).ToList();
        if (fitted.Count < MinSoloRuns)
        {
            return [];
        }

        var slowdown = LeastSquares(
            fitted.Select(x => LoadFeatures(x.Record)).ToList(),
            fitted.Select(x => Math.Log(x.Record.MeasuredLatencyMs / x.Alone)).ToList());
        return fitted
            .Select(x => Math.Abs((x.Alone * Math.Exp(Dot(slowdown, LoadFeatures(x.Record)))) - x.Record.MeasuredLatencyMs) / x.Record.MeasuredLatencyMs)
            .ToList();
    }

    private static double[] SoloFeatures(LiveQueryRecord r) => [1, r.PromptTokens, r.GeneratedTokens];

    private static double[] LoadFeatures(LiveQueryRecord r)
    {
        var batched = Math.Max(0, r.BatchSize - 1);
        return [1, batched, Math.Max(0, r.OthersAtSend - batched)];
    }

    private static double Dot(double[] weights, double[] features)
    {
        var sum = 0.0;
        for (var i = 0; i < weights.Length; i++)
        {
            sum += weights[i] * features[i];
        }

        return sum;
    }

    /// <summary>Ordinary least squares by the normal equations, with a tiny ridge so a constant column cannot make them singular.</summary>
    internal static double[] LeastSquares(IReadOnlyList<double[]> rows, IReadOnlyList<double> targets)
    {
        var n = rows[0].Length;
        var a = new double[n, n + 1];
        for (var k = 0; k < rows.Count; k++)
        {
            for (var i = 0; i < n; i++)
            {
                for (var j = 0; j < n; j++)
                {
                    a[i, j] += rows[k][i] * rows[k][j];
                }

                a[i, n] += rows[k][i] * targets[k];
            }
        }

        for (var i = 0; i < n; i++)
        {
            a[i, i] += 1e-9 * (1 + a[i, i]);
        }

        // Gaussian elimination with partial pivoting on the augmented matrix.
        for (var col = 0; col < n; col++)
        {
            var pivot = col;
            for (var row = col + 1; row < n; row++)
            {
                if (Math.Abs(a[row, col]) > Math.Abs(a[pivot, col]))
                {
                    pivot = row;
                }
            }

            for (var j = 0; j <= n; j++)
            {
                (a[col, j], a[pivot, j]) = (a[pivot, j], a[col, j]);
            }

            for (var row = col + 1; row < n; row++)
            {
                var factor = a[row, col] / a[col, col];
                for (var j = col; j <= n; j++)
                {
                    a[row, j] -= factor * a[col, j];
                }
            }
        }

        var x = new double[n];
        for (var i = n - 1; i >= 0; i--)
        {
            var sum = a[i, n];
            for (var j = i + 1; j < n; j++)
            {
                sum -= a[i, j] * x[j];
            }

            x[i] = sum / a[i, i];
        }

        return x;
    }
}
