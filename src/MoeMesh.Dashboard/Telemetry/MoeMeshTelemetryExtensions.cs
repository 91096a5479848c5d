using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using MoeMesh.Dashboard.Telemetry;
using MoeMesh;
using MoeMesh.Monitoring;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Microsoft.Extensions.Hosting;

/// <summary>OpenTelemetry for MoeMesh hosts: silos, dashboards and command-line clients.</summary>
public static class MoeMeshTelemetryExtensions
{
    /// <summary>Orleans' activity sources: grain calls, which carry a query's trace from the client to the router and every expert.</summary>
    public static IReadOnlyList<string> OrleansActivitySources { get; } = ["Microsoft.Orleans.Application", "Microsoft.Orleans.Runtime"];

    /// <summary>
    /// Exports MoeMesh's traces (a query's <c>moemesh.query</c> span with <c>moemesh.expert</c> and
    /// <c>moemesh.generate</c> children, joined across silos by Orleans' activity propagation, under the
    /// HTTP request that asked) and metrics (queries, latency, energy per query, budget violations, tokens,
    /// decode speed, residency loads and evictions, generations still running after their query was cancelled) by OTLP and/or to the console, as <c>MoeMesh:Telemetry</c>
    /// (then <paramref name="configure"/>) says. Does nothing when neither is configured.
    /// </summary>
    /// <exception cref="MoeMeshConfigurationException">The configuration is invalid.</exception>
    public static IHostApplicationBuilder AddMoeMeshTelemetry(this IHostApplicationBuilder builder, Action<MoeMeshTelemetryOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = new MoeMeshTelemetryOptions();
        try
        {
            builder.Configuration.GetSection(MoeMeshTelemetryOptions.SectionName).Bind(options);
        }
        catch (InvalidOperationException ex)
        {
            throw new MoeMeshConfigurationException($"Invalid {MoeMeshTelemetryOptions.SectionName} configuration: {ex.Message}", ex);
        }

        configure?.Invoke(options);
        MoeMeshConfigurationException.ThrowIfAny(options.Validate(), $"Invalid {MoeMeshTelemetryOptions.SectionName} configuration");
        if (!options.Enabled)
        {
            return builder;
        }

        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(options.ServiceName, serviceVersion: typeof(MoeMeshTelemetryExtensions).Assembly.GetName().Version?.ToString(3)))
            .WithTracing(tracing =>
            {
                tracing.AddMoeMeshInstrumentation();
                if (options.Console)
                {
                    tracing.AddConsoleExporter();
                }

                if (!string.IsNullOrWhiteSpace(options.OtlpEndpoint))
                {
                    tracing.AddOtlpExporter(otlp => ConfigureOtlp(otlp, options));
                }
            })
            .WithMetrics(metrics =>
            {
                metrics.AddMoeMeshInstrumentation();
                if (options.Console)
                {
                    metrics.AddConsoleExporter((_, reader) => reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = options.MetricExportIntervalMs);
                }

                if (!string.IsNullOrWhiteSpace(options.OtlpEndpoint))
                {
                    metrics.AddOtlpExporter((otlp, reader) =>
                    {
                        ConfigureOtlp(otlp, options);
                        reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = options.MetricExportIntervalMs;
                    });
                }
            });
        return builder;
    }

    /// <summary>Listens to MoeMesh's activity source, Orleans' grain-call sources and ASP.NET Core's requests.</summary>
    public static TracerProviderBuilder AddMoeMeshInstrumentation(this TracerProviderBuilder tracing)
    {
        ArgumentNullException.ThrowIfNull(tracing);
        return tracing
            .AddSource(MoeMeshTelemetryNames.SourceName)
            .AddSource([.. OrleansActivitySources])
            .AddSource("Microsoft.AspNetCore");
    }

    /// <summary>Listens to MoeMesh's meter, Orleans' meter and ASP.NET Core's request meters.</summary>
    public static MeterProviderBuilder AddMoeMeshInstrumentation(this MeterProviderBuilder metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        return metrics
            .AddMeter(MoeMeshTelemetryNames.MeterName)
            .AddMeter("Microsoft.Orleans")
            .AddMeter("Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel");
    }

    private static void ConfigureOtlp(OtlpExporterOptions otlp, MoeMeshTelemetryOptions options)
    {
        otlp.Endpoint = new Uri(options.OtlpEndpoint!);
        otlp.Protocol = options.OtlpProtocol == OtlpProtocol.HttpProtobuf ? OtlpExportProtocol.HttpProtobuf : OtlpExportProtocol.Grpc;
    }
}
