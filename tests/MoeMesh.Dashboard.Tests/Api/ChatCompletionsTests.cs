using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MoeMesh.Dashboard.Tests.TestDoubles;

namespace MoeMesh.Dashboard.Tests.Api;

/// <summary>The OpenAI-compatible API through a plain HttpClient, against the two-silo mesh.</summary>
[Collection(DashboardMeshCollection.Name)]
public sealed class ChatCompletionsTests(DashboardMeshFixture mesh)
{
    [Fact]
    public async Task A_non_streaming_completion_has_the_openai_shape_with_usage_and_the_mesh_accounting()
    {
        using var http = mesh.CreateClient();

        using var response = await http.PostAsync("v1/chat/completions", Json("""
            {"model": "math-small", "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What is 7 times 6?"}], "max_tokens": 4, "budget_ms": 60000}
            """));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("chat.completion", (string?)body["object"]);
        Assert.StartsWith("chatcmpl-", (string?)body["id"], StringComparison.Ordinal);
        Assert.Equal("math-small", (string?)body["model"]);
        var choice = body["choices"]![0]!;
        Assert.Equal("assistant", (string?)choice["message"]!["role"]);
        Assert.Equal("math-small says: the answer", (string?)choice["message"]!["content"]);
        Assert.Equal("length", (string?)choice["finish_reason"]);
        Assert.Equal(4, (int)body["usage"]!["completion_tokens"]!);
        Assert.Equal((int)body["usage"]!["prompt_tokens"]! + 4, (int)body["usage"]!["total_tokens"]!);
        var accounting = body["moemesh"]!;
        Assert.Equal("math-small", (string?)accounting["runs"]![0]!["expert"]);
        Assert.Equal(60000, (double)accounting["budget_ms"]!);
        Assert.True((bool)accounting["budget_met"]!);
        Assert.True((double)accounting["energy_j"]! > 0);
        Assert.False(string.IsNullOrEmpty((string?)accounting["runs"]![0]!["device"]));
    }

    [Fact]
    public async Task A_streaming_completion_sends_chunks_that_add_up_to_the_answer_and_ends_with_done()
    {
        using var http = mesh.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions")
        {
            Content = Json("""
                {"model": "moemesh", "messages": [{"role": "user", "content": [{"type": "text", "text": "Tell me about the history of Rome"}]}], "stream": true, "stream_options": {"include_usage": true}, "k": 1}
                """),
        };

        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var chunks = new List<JsonNode>();
        var done = false;
        await foreach (var e in ServerSentEvents.ReadAsync(await response.Content.ReadAsStreamAsync()))
        {
            if (e.Data == "[DONE]")
            {
                done = true;
                break;
            }

            chunks.Add(JsonNode.Parse(e.Data)!);
        }

        Assert.True(done, "the stream must end with data: [DONE]");
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", (string?)c["object"]));
        Assert.Single(chunks.Select(c => (string?)c["id"]).Distinct());
        Assert.Equal("assistant", (string?)chunks[0]["choices"]![0]!["delta"]!["role"]);
        Assert.NotNull(chunks[0]["moemesh"]!["plan"]);
        var text = string.Concat(chunks.Select(c => (string?)c["choices"]?.AsArray().FirstOrDefault()?["delta"]?["content"] ?? ""));
        Assert.Equal("general-small says: the answer is (B) because reasons", text);
        Assert.True(chunks.Count(c => !string.IsNullOrEmpty((string?)c["choices"]?.AsArray().FirstOrDefault()?["delta"]?["content"])) > 3, "the answer arrives in several pieces");
        var final = chunks.Single(c => c["choices"]!.AsArray().FirstOrDefault()?["finish_reason"] is not null);
        Assert.Equal("stop", (string?)final["choices"]![0]!["finish_reason"]);
        Assert.Equal("general-small", (string?)final["moemesh"]!["runs"]![0]!["expert"]);
        var usage = chunks[^1];
        Assert.Empty(usage["choices"]!.AsArray());
        Assert.Equal(8, (int)usage["usage"]!["completion_tokens"]!);
    }

    [Fact]
    public async Task Models_lists_the_strategies_and_every_expert_in_the_catalog()
    {
        using var http = mesh.CreateClient();

        var body = JsonNode.Parse(await http.GetStringAsync("v1/models"))!;

        Assert.Equal("list", (string?)body["object"]);
        var ids = body["data"]!.AsArray().Select(m => (string?)m!["id"]).ToList();
        Assert.Contains("moemesh", ids);
        Assert.Contains("moemesh-symbolic", ids);
        Assert.Contains("moemesh-moe2", ids);
        Assert.Contains("math-small", ids);
        Assert.Contains("general-small", ids);
        Assert.All(body["data"]!.AsArray(), m => Assert.Equal("model", (string?)m!["object"]));
        var single = JsonNode.Parse(await http.GetStringAsync("v1/models/code-small"))!;
        Assert.Equal("Code 1B", (string?)single["description"]);
    }

    [Theory]
    [InlineData("{\"model\": \"moemesh\", \"messages\": [", "invalid_json", null)]
    [InlineData("[1, 2, 3]", null, null)]
    [InlineData("{\"model\": \"moemesh\"}", null, "messages")]
    [InlineData("{\"model\": \"moemesh\", \"messages\": []}", null, "messages")]
    [InlineData("{\"model\": \"moemesh\", \"messages\": [{\"role\": \"wizard\", \"content\": \"hi\"}]}", null, "messages[0].role")]
    [InlineData("{\"model\": \"moemesh\", \"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"image_url\", \"image_url\": {\"url\": \"x\"}}]}]}", null, "messages[0].content[0]")]
    [InlineData("{\"model\": \"moemesh\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"budget_ms\": -5}", null, "budget_ms")]
    [InlineData("{\"model\": \"moemesh\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"budget_j\": 0}", null, "budget_j")]
    [InlineData("{\"model\": \"moemesh\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"budget_ms\": \"fast\"}", null, "budget_ms")]
    [InlineData("{\"model\": \"moemesh\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"k\": 40}", null, "k")]
    [InlineData("{\"model\": \"moemesh\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"temperature\": 99}", null, "temperature")]
    [InlineData("{\"model\": \"moemesh\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"max_tokens\": 0}", null, "max_tokens")]
    [InlineData("{\"model\": \"moemesh\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"strategy\": \"telepathy\"}", null, "strategy")]
    [InlineData("{\"model\": \"moemesh\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"tools\": [{\"type\": \"function\"}]}", null, "tools")]
    [InlineData("{\"model\": \"moemesh\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"n\": 3}", null, "n")]
    [InlineData("{\"model\": \"moemesh\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"stream\": \"yes\"}", null, "stream")]
    public async Task Bad_bodies_get_400_in_the_openai_error_shape_and_never_reach_the_router(string body, string? code, string? param)
    {
        using var http = mesh.CreateClient();
        var requestsBefore = mesh.Probe.Requests.Count;

        using var response = await http.PostAsync("v1/chat/completions", Json(body));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = await ErrorOf(response);
        Assert.Equal("invalid_request_error", (string?)error["type"]);
        Assert.False(string.IsNullOrWhiteSpace((string?)error["message"]));
        if (code is not null)
        {
            Assert.Equal(code, (string?)error["code"]);
        }

        if (param is not null)
        {
            Assert.Equal(param, (string?)error["param"]);
        }

        Assert.Equal(requestsBefore, mesh.Probe.Requests.Count);
    }

    [Fact]
    public async Task An_invalid_budget_is_explained_in_the_message()
    {
        using var http = mesh.CreateClient();

        using var response = await http.PostAsync("v1/chat/completions", Json("""{"model": "moemesh", "messages": [{"role": "user", "content": "hi"}], "budget_ms": -5}"""));

        var error = await ErrorOf(response);
        Assert.Contains("latency budget must be a positive number of milliseconds", (string?)error["message"], StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task An_unknown_model_gets_404_model_not_found_before_any_expert_runs()
    {
        using var http = mesh.CreateClient();
        var requestsBefore = mesh.Probe.Requests.Count;

        using var response = await http.PostAsync("v1/chat/completions", Json("""{"model": "gpt-17-ultra", "messages": [{"role": "user", "content": "hi"}], "stream": true}"""));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var error = await ErrorOf(response);
        Assert.Equal("model_not_found", (string?)error["code"]);
        Assert.Equal("model", (string?)error["param"]);
        Assert.Contains("gpt-17-ultra", (string?)error["message"], StringComparison.Ordinal);
        Assert.Equal(requestsBefore, mesh.Probe.Requests.Count);
    }

    [Fact]
    public async Task A_body_over_the_size_limit_gets_413_in_the_openai_error_shape()
    {
        using var http = mesh.CreateClient();
        var huge = new string('a', 1024 * 1024 + 10);

        using var response = await http.PostAsync("v1/chat/completions", Json($$"""{"model": "moemesh", "messages": [{"role": "user", "content": "{{huge}}"}]}"""));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        var error = await ErrorOf(response);
        Assert.Equal("request_too_large", (string?)error["code"]);
    }

    [Fact]
    public async Task A_chunked_body_over_the_size_limit_gets_413_too()
    {
        using var http = mesh.CreateClient();
        var content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes("{\"model\": \"moemesh\", \"messages\": [{\"role\": \"user\", \"content\": \"" + new string('b', 1024 * 1024 + 10) + "\"}]}")));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = content };
        request.Headers.TransferEncodingChunked = true;

        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("request_too_large", (string?)(await ErrorOf(response))["code"]);
    }

    [Fact]
    public async Task A_body_that_is_not_json_gets_415()
    {
        using var http = mesh.CreateClient();

        using var response = await http.PostAsync("v1/chat/completions", new StringContent("model=moemesh", Encoding.UTF8, "application/x-www-form-urlencoded"));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Contains("application/json", (string?)(await ErrorOf(response))["message"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_api_path_answers_in_the_openai_error_shape()
    {
        using var http = mesh.CreateClient();

        using var response = await http.GetAsync("v1/embeddings");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("unknown_url", (string?)(await ErrorOf(response))["code"]);
    }

    internal static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    internal static async Task<JsonNode> ErrorOf(HttpResponseMessage response)
    {
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        var error = body["error"];
        Assert.NotNull(error);
        Assert.True(error.AsObject().ContainsKey("param"));
        Assert.True(error.AsObject().ContainsKey("code"));
        return error;
    }

    internal static JsonElement Parse(string json) => JsonDocument.Parse(json).RootElement.Clone();
}
