using System.IO.Compression;
using System.Text.Json;

namespace MoeMesh.Cli.Tests.Eval;

public sealed class EvalProbeCommandTests
{
    // Llama is right on math and wrong on law, Phi-3 the other way round.
    private static string WriteData()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("moemesh-probe-").FullName, "recorded.jsonl.gz");
        using var file = new GZipStream(File.Create(path), CompressionLevel.Fastest);
        using var writer = new StreamWriter(file);
        for (var id = 1; id <= 120; id++)
        {
            var math = id % 2 == 0;
            var line = new
            {
                question_id = id,
                category = math ? "math" : "law",
                src = math ? "ori_mmlu-algebra" : "ori_mmlu-torts",
                question = $"question {id}",
                options = new[] { "w", "x", "y", "z" },
                answer = "A",
                models = new Dictionary<string, object>
                {
                    ["Meta-Llama-3_1-8B-Instruct"] = new { pred = math ? "A" : "B", out_chars = 100 },
                    ["Phi-3-mini-4k-instruct"] = new { pred = math ? "C" : "A", out_chars = 100 },
                },
            };
            writer.WriteLine(JsonSerializer.Serialize(line));
        }

        return path;
    }

    [Fact]
    public async Task Probe_cross_validates_the_estimators_on_the_training_split_and_writes_json()
    {
        var data = WriteData();
        try
        {
            var (code, output, error) = await CliRunner.RunAsync("eval", "--probe", "--embeddings", "none", "--json", "--data", data);

            Assert.True(code == 0, error);
            var results = JsonDocument.Parse(output).RootElement;
            Assert.Equal(4, results.GetArrayLength());
            foreach (var result in results.EnumerateArray())
            {
                Assert.Equal(1.0, result.GetProperty("topOne").GetDouble(), 9);
            }
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(data)!, recursive: true);
        }
    }
}
