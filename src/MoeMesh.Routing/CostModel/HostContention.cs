namespace MoeMesh.Routing.CostModel;

/// <summary>
/// How fast one host runs an engine now, against its calibration (alone, at pace 1): a line
/// <c>pace + slope × others</c> in the sequences other engines of the host are running. Engines on
/// one host share its cores, so each sequence elsewhere on the host costs this one a share of them
/// (the slope), while work outside the mesh slows every engine alike (the pace). The line is fitted
/// by least squares over recent runs, each weighing <see cref="Decay"/> times the one after it, so
/// a host whose outside load changes is followed within a few runs. The fit is held toward the pace
/// the host's runs alone last showed (a ridge of <see cref="SoloWeight"/> runs): when the recent runs
/// all met about the same load they cannot tell the pace from the slope, and then the slope takes
/// the load rather than the pace, so the first run alone after them is predicted at the solo pace.
/// Thread-safe.
/// </summary>
public sealed class HostContention
{
    /// <summary>What each run weighs against the next one: a memory of about three runs, as fast as outside load changes.</summary>
    public const double Decay = 0.7;

    /// <summary>What the starting line (pace 1, the calibration's slope) is worth, in runs, at 0 and at <see cref="PriorSpread"/> others.</summary>
    public const double PriorWeight = 0.5;

    /// <summary>The count of others the starting line is anchored at besides 0.</summary>
    public const double PriorSpread = 4;

    /// <summary>
    /// What the pace of the runs alone is worth in the fit, in runs: little against the recent runs
    /// when their loads differ, all there is in the direction they cannot tell apart when they do not.
    /// </summary>
    public const double SoloWeight = 0.5;

    /// <summary>What the slope now is worth in the fit, in runs: it keeps the slope when every recent run was alone.</summary>
    public const double SlopeWeight = 0.05;

    private const double MinPace = 0.2;
    private const double MaxPace = 5;
    // A busy engine elsewhere on the host takes at most about its share of the cores: beyond 1.5 per
    // engine the fit is following noise (a spell of slow runs), and predictions far past any run's time follow it.
    private const double MaxSlowdown = 1.5;

    private readonly Lock _gate = new();

    // Decayed sums of the weighted least-squares fit of ratio = pace + slope × others.
    private double _w;
    private double _wx;
    private double _wxx;
    private double _wy;
    private double _wxy;
    private double _pace = 1;
    private double _slowdown;

    // Decayed sums of the pace of runs alone (each run counted by how nearly alone it was), from pace 1.
    private double _soloW = PriorWeight;
    private double _soloY = PriorWeight;

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

    /// <summary>The pace the host's runs alone last showed (above 1: slower than the calibrations).</summary>
    public double SoloPace
    {
        get
        {
            lock (_gate)
            {
                return SoloPaceNow();
            }
        }
    }

    /// <summary>
    /// The multiplier on an engine's calibrated time with <paramref name="others"/> sequences on other
    /// engines of the host: the fitted line from one other on, and below that the way from the pace
    /// runs alone showed to the line's value at one. The line follows the last few runs, which under
    /// load cannot always tell the pace from the slope; a run alone is predicted from runs alone.
    /// </summary>
    public double Factor(double others)
    {
        lock (_gate)
        {
            return FactorNow(others);
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
            AddSolo(others, ratio);
            Add(others, ratio, 1);
            Fit();
            Observations++;
            return FactorNow(others);
        }
    }

    private double FactorNow(double others)
    {
        others = Math.Max(0, others);
        var solo = SoloPaceNow();

        // The line is held within what the cores' sharing allows from the pace runs alone showed.
        var line = Math.Min(_pace * (1 + (_slowdown * others)), solo * (1 + (MaxSlowdown * others)));
        if (others >= 1)
        {
            return line;
        }

        var atOne = Math.Min(_pace * (1 + _slowdown), solo * (1 + MaxSlowdown));
        return solo + ((atOne - solo) * others);
    }

    private double SoloPaceNow() => Math.Clamp(_soloY / _soloW, MinPace, MaxPace);

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

    /// <summary>The pace of runs alone: a run with fewer than one other on average counts by how nearly alone it was.</summary>
    private void AddSolo(double others, double ratio)
    {
        var alone = Math.Max(0, 1 - others);
        if (alone <= 0)
        {
            return;
        }

        var decay = Math.Pow(Decay, alone);
        _soloW = (_soloW * decay) + alone;
        _soloY = (_soloY * decay) + (alone * ratio / (1 + (_slowdown * others)));
    }

    private void Fit()
    {
        // Ridge least squares of ratio = a + b × others, a held toward the solo pace and b toward the slope now.
        var soloPace = SoloPaceNow();
        var slopeNow = _pace * _slowdown;
        var a11 = _w + SoloWeight;
        var a12 = _wx;
        var a22 = _wxx + SlopeWeight;
        var b1 = _wy + (SoloWeight * soloPace);
        var b2 = _wxy + (SlopeWeight * slopeNow);
        var det = (a11 * a22) - (a12 * a12);
        if (det > 0)
        {
            var intercept = ((b1 * a22) - (a12 * b2)) / det;
            var slope = ((a11 * b2) - (a12 * b1)) / det;

            // A slope out of range (busier runs faster: the noise of other work) is held at its bound.
            _slowdown = intercept > 0 ? Math.Clamp(slope / intercept, 0, MaxSlowdown) : MaxSlowdown;
        }

        // The pace that fits the runs best with that slope (least squares of ratio = pace × (1 + slope × others), held as above).
        var s = _slowdown;
        _pace = Math.Clamp(
            (_wy + (s * _wxy) + (SoloWeight * soloPace)) / (_w + (2 * s * _wx) + (s * s * _wxx) + SoloWeight),
            MinPace,
            MaxPace);
    }
}
