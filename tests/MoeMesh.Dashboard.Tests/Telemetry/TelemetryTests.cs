using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Hosting;
using MoeMesh.Dashboard.Tests.Api;
using MoeMesh.Dashboard.Tests.TestDoubles;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace MoeMesh.Dashboard.Tests.Telemetry;

/// <summary>A query's trace follows it from the HTTP client through the router to the experts on their silos; metrics count it.</summary>
[Collection(DashboardMeshCollection.Name)]
public sealed class TelemetryTests(DashboardMeshFixture mesh)
{
    private static readonly ActivitySource Client = new("MoeMesh.Dashboard.Tests.Client");

    [Fact]
    public async Task A_query_is_one_trace_from_the_client_through_the_router_to_every_expert_and_is_counted()
    {
        var spans = new List<Activity>();
        var metrics = new List<Metric>();
        using var tracing = Sdk.CreateTracerProviderBuilder()
            .AddSource(Client.Name, "System.Net.Http")
            .AddMoeMeshInstrumentation()
            .AddInMemoryExporter(spans)
            .Build();
        using var metering = Sdk.CreateMeterProviderBuilder()
            .AddMoeMeshInstrumentation()
            .AddInMemoryExporter(metrics)
            .Build();

        ActivityTraceId traceId;
        using (var root = Client.StartActivity("ask the mesh", ActivityKind.Client))
        {
            Assert.NotNull(root);
            traceId = root.TraceId;
            using var http = mesh.CreateClient();
            using var response = await http.PostAsync("v1/chat/completions", ChatCompletionsTests.Json("""
                {"model": "moemesh-symbolic", "k": 2, "messages": [{"role": "user", "content": "traced question about algebra and history"}]}
                """));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        List<Activity> trace = [];
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            tracing.ForceFlush();
            lock (spans)
            {
                trace = spans.Where(s => s.TraceId == traceId).ToList();
            }

            // Spans are exported as they end, so wait until the chain from the query span back to the
            // HTTP request is complete, not just until the request's own span has arrived.
            var bySpanSoFar = trace.GroupBy(s => s.SpanId).ToDictionary(g => g.Key, g => g.First());
            if (trace.Count(s => s.OperationName == "moemesh.generate") >= 2
                && trace.FirstOrDefault(s => s.OperationName == "moemesh.query") is { } root
                && Ancestors(root, bySpanSoFar).Any(a => a.Source.Name == "Microsoft.AspNetCore"))
            {
                break;
            }

            await Task.Delay(100);
        }

        var query = Assert.Single(trace, s => s.OperationName == "moemesh.query");
        var experts = trace.Where(s => s.OperationName == "moemesh.expert").ToList();
        Assert.True(experts.Count >= 2, $"expected one moemesh.expert span per recruited expert, got {experts.Count}");
        Assert.All(experts, e => Assert.InRange(e.StartTimeUtc, query.StartTimeUtc, query.StartTimeUtc + query.Duration));
        var generations = trace.Where(s => s.OperationName == "moemesh.generate").ToList();
        Assert.True(generations.Count >= 2, "each expert's generation on its silo joins the trace");

        // Each generation descends, through the Orleans grain call, from one of the router's expert (or aggregator) spans.
        var bySpan = trace.ToDictionary(s => s.SpanId);
        Assert.All(generations, g => Assert.Contains(Ancestors(g, bySpan), a => a.OperationName is "moemesh.expert" or "moemesh.aggregate"));

        // The symbolic plan's aggregator is in the same trace, under the query.
        var aggregate = Assert.Single(trace, s => s.OperationName == "moemesh.aggregate");
        Assert.Contains(Ancestors(aggregate, bySpan), a => a.OperationName == "moemesh.query");

        // And every expert span sits under the query span: client → router → experts.
        Assert.All(experts, e => Assert.Contains(Ancestors(e, bySpan), a => a.OperationName == "moemesh.query"));
        Assert.Contains(Ancestors(query, bySpan), a => a.Source.Name == "Microsoft.AspNetCore");
        Assert.Contains(Ancestors(query, bySpan), a => a.Source.Name == Client.Name);

        metering.ForceFlush();
        var queries = metrics.Where(m => m.Name == "moemesh.queries").ToList();
        Assert.NotEmpty(queries);
        long counted = 0;
        foreach (var metric in queries)
        {
            foreach (ref readonly var point in metric.GetMetricPoints())
            {
                counted += point.GetSumLong();
            }
        }

        Assert.True(counted >= 1);
        Assert.Contains(metrics, m => m.Name == "moemesh.query.energy");
        Assert.Contains(metrics, m => m.Name == "moemesh.tokens");
    }

    private static IEnumerable<Activity> Ancestors(Activity span, Dictionary<ActivitySpanId, Activity> bySpan)
    {
        var current = span;
        while (current.ParentSpanId != default && bySpan.TryGetValue(current.ParentSpanId, out var parent))
        {
            yield return parent;
            current = parent;
        }
    }
}
