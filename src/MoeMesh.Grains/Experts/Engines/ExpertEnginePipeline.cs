using MoeMesh.Experts;
using MoeMesh.Grains.Energy;
using MoeMesh.Grains.Residency;
using MoeMesh.Inference.Engines;
using MoeMesh.Routing.CostModel;

namespace MoeMesh.Grains.Experts.Engines;

/// <summary><c>Use…</c> methods adding the silo's concerns to an engine, outermost first.</summary>
public static class ExpertEnginePipeline
{
    /// <summary>Traces generations and records tokens and decode speed.</summary>
    public static ExpertEngineBuilder UseInstrumentation(this ExpertEngineBuilder builder, string silo)
        => builder.Use(inner => new InstrumentedExpertEngine(inner, silo));

    /// <summary>
    /// Keeps a calibration of the engine, updated by every finished run, each weighed by the other
    /// generations it met on the silo (<paramref name="generations"/>; by default those counted by the
    /// residency tracking further in).
    /// </summary>
    public static ExpertEngineBuilder UseCalibration(this ExpertEngineBuilder builder, CalibrationRules? rules = null, SiloGenerations? generations = null)
        => builder.Use(inner => new CalibratingExpertEngine(inner, rules, generations));

    /// <summary>Holds generations to their time budgets, using the calibration and load found further in.</summary>
    public static ExpertEngineBuilder UseDeadline(this ExpertEngineBuilder builder, Func<EngineCalibration?> calibration, Func<int> running, TimeProvider time)
        => builder.Use(inner => new DeadlineExpertEngine(inner, calibration, running, time));

    /// <summary>Marks the model busy in the residency cache while it generates, and counts its load.</summary>
    public static ExpertEngineBuilder UseResidency(this ExpertEngineBuilder builder, ExpertResidency residency, ExpertReplica replica, TimeProvider time)
        => builder.Use(inner => new ResidencyTrackingExpertEngine(inner, residency, replica, time));

    /// <summary>Charges each generation its share of the meter's increment.</summary>
    public static ExpertEngineBuilder UseEnergyAccounting(this ExpertEngineBuilder builder, EnergyAccountant energy)
        => builder.Use(inner => new EnergyAccountingExpertEngine(inner, energy));

    /// <summary>The decorator of type <typeparamref name="T"/> in <paramref name="engine"/>'s chain, or null.</summary>
    public static T? GetService<T>(this IExpertEngine engine)
        where T : class
        => engine as T ?? (engine as DelegatingExpertEngine)?.GetService<T>();
}
