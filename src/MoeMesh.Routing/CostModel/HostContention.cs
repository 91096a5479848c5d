namespace MoeMesh.Routing.CostModel;

/// <summary>
/// How fast one host runs an engine now, against its calibration (alone, at pace 1): a line
/// <c>pace + slope × others</c> in the sequences other engines of the host are running. Engines on
/// one host share its cores, so each sequence elsewhere on the host costs this one a share of them
/// (the slope), while work outside the mesh slows every engine alike (the pace). The line is fitted
/// by least squares over recent runs, each weighing <see cref="Decay"/> times the one after it, so
/// a host whose outside load changes is followed within a few runs; the slope moves only when the
/// runs' counts of others differ enough to tell it from the pace. Thread-safe.
/// </summary>
public sealed class HostContention
{
    /// <summary>What each run weighs against the next one: a memory of about three runs, as fast as outside load changes.</summary>
    public const double Decay = 0.7;

    /// <summary>What the starting line (pace 1, the calibration's slope) is worth, in runs, at 0 and at <see cref="PriorSpread"/> others.</summary>
    public const double PriorWeight = 0.5;

    /// <summary>The count of others the starting line is anchored at besides 0.</summary>
    public const double PriorSpread = 4;

    /// <summary>Below this weighted variance of the runs' counts of others, only the pace moves.</summary>
    public const double MinSpread = 0.25;

    private const double MinPace = 0.2;
    private const double MaxPace = 5;
    private const double MaxSlowdown = 4;

    private readonly Lock _gate = new();

    // Decayed sums of the weighted least-squares fit of ratio = pace + slope × others.
    private double _w;
    private double _wx;
    private double _wxx;
    private double _wy;
    private double _wxy;
    private double _pace = 1;
    private double _slowdown;

    /// <summary>
    /// A host not measured yet: pace 1, and each sequence elsewhere on it slowing an engine by
    /// <paramref name="slowdown"/> (the calibration's figure until runs say otherwise).
    /// </summary>
    public HostContention(double slowdown)
    {
        _slowdown = Math.Clamp(slowdown, 0, MaxSlowdown);
        Seed(_slowdown);
    }

    /// <summary>The host's speed now against its calibrations, with nothing else on it (above 1: slower).</summary>
    public double Pace
    {
        get
        {
            lock (_gate)
            {
                return _pace;
            }
        }
    }

    /// <summary>What each sequence on another engine of the host adds to this one's time, as a share of its time alone.</summary>
    public double Slowdown
    {
        get
        {
            lock (_gate)
            {
                return _slowdown;
            }
        }
    }

    /// <summary>Runs seen so far.</summary>
    public int Observations { get; private set; }

    /// <summary>The multiplier on an engine's calibrated time with <paramref name="others"/> sequences on other engines of the host.</summary>
    public double Factor(double others)
    {
        lock (_gate)
        {
            return _pace * (1 + (_slowdown * Math.Max(0, others)));
        }
    }

    /// <summary>
    /// Takes one run: it had <paramref name="others"/> sequences on other engines of the host (on
    /// average over the run) and took <paramref name="ratio"/> times what its calibration says alone.
    /// Returns the multiplier the run's time is divided by to bring it back to the calibration's terms.
    /// </summary>
    public double Observe(double others, double ratio)
    {
        if (!double.IsFinite(others) || !double.IsFinite(ratio) || ratio <= 0)
        {
            return Factor(others);
        }

        others = Math.Max(0, others);
        ratio = Math.Clamp(ratio, MinPace, MaxPace * (1 + (MaxSlowdown * others)));
        lock (_gate)
        {
            Add(others, ratio, 1);
            Fit();
            Observations++;
            return _pace * (1 + (_slowdown * others));
        }
    }

    private void Seed(double slowdown)
    {
        Add(0, 1, PriorWeight);
        Add(PriorSpread, 1 + (slowdown * PriorSpread), PriorWeight);
    }

    private void Add(double x, double y, double weight)
    {
        _w = (_w * Decay) + weight;
        _wx = (_wx * Decay) + (weight * x);
        _wxx = (_wxx * Decay) + (weight * x * x);
        _wy = (_wy * Decay) + (weight * y);
        _wxy = (_wxy * Decay) + (weight * x * y);
    }

    private void Fit()
    {
        var meanX = _wx / _w;
        var meanY = _wy / _w;
        var variance = (_wxx / _w) - (meanX * meanX);
        if (variance >= MinSpread)
        {
            // Enough spread in the counts of others to tell the slope from the pace; a slope out of
            // range (busier runs faster: the noise of other work) is held at its bound.
            var slope = ((_wxy / _w) - (meanX * meanY)) / variance;
            var intercept = meanY - (slope * meanX);
            _slowdown = intercept > 0 ? Math.Clamp(slope / intercept, 0, MaxSlowdown) : MaxSlowdown;
        }

        // The pace that fits the runs best with that slope (least squares of ratio = pace × (1 + slope × others)).
        var s = _slowdown;
        _pace = Math.Clamp((_wy + (s * _wxy)) / (_w + (2 * s * _wx) + (s * s * _wxx)), MinPace, MaxPace);
    }
}
