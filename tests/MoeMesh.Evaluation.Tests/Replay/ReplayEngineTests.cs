using MoeMesh.Errors;
using MoeMesh.Experts;
using MoeMesh.Generation;
using MoeMesh.Evaluation.Replay;
using MoeMesh.Inference.Tests.TestSupport;
using MoeMesh.Routing.CostModel;
using MoeMesh.Routing.Data;

namespace MoeMesh.Evaluation.Tests.Replay;

[Collection(ReplayDataCollection.Name)]
public sealed class ReplayEngineTests(ReplayDataFixture data)
{
    private const string Llama = "Meta-Llama-3_1-8B-Instruct";

    [Fact]
    public async Task Answers_a_test_question_with_the_recorded_letter_and_the_predicted_energy()
    {
        var provider = data.Provider(data.Rtx4090);
        await using var engine = await provider.LoadAsync(data.Manifest(Llama));
        var slot = data.Recording.Dataset.ModelIndex(Llama);
        var checkedQuestions = 0;
        foreach (var question in data.TestQuestions.Where(q => q.PredictionOf(slot) is not null).Take(25))
        {
            var (text, metrics, chunks) = await ReplayPrompts.CollectAsync(engine.GenerateAsync(ReplayPrompts.Responder(question)));

            var recorded = question.PredictionOf(slot)!;
            Assert.Equal($"The answer is ({recorded}).", text);
            Assert.Equal(recorded, ReplayTexts.LetterIn(text, 26));
            Assert.Equal(2, chunks);
            Assert.Equal((int)Math.Ceiling(question.PromptChars / 4.0) + 32, metrics.PromptTokens);
            Assert.Equal(256, metrics.GeneratedTokens);
            Assert.Equal(ReplayEngine.EnergySource, metrics.EnergySource);
            Assert.True(metrics.EnergyJoules > 100, $"energy {metrics.EnergyJoules} J");
            Assert.Equal(FinishReason.EndOfText, metrics.FinishReason);
            checkedQuestions++;
        }

        Assert.Equal(25, checkedQuestions);
    }

    [Fact]
    public async Task A_recorded_run_without_a_letter_is_replayed_as_a_text_naming_no_letter()
    {
        var model = "Llama-2-13b-hf";
        var slot = data.Recording.Dataset.ModelIndex(model);
        var question = data.TestQuestions.First(q => q.TryGetAnswer(slot, out var a) && a.Prediction is null);
        await using var engine = await data.Provider(data.Jetson).LoadAsync(data.Manifest(model));

        var (text, metrics, _) = await ReplayPrompts.CollectAsync(engine.GenerateAsync(ReplayPrompts.Responder(question)));

        Assert.Equal(ReplayTexts.NoLetterOpening + ReplayTexts.NoLetterClosing, text);
        Assert.Null(ReplayTexts.LetterIn(text, 26));
        Assert.True(metrics.EnergyJoules > 0);
    }

    [Fact]
    public async Task A_question_that_is_not_recorded_is_refused_with_a_clear_error_before_any_text()
    {
        await using var engine = await data.Provider(data.Rtx4090).LoadAsync(data.Manifest(Llama));
        var request = GenerationRequest.FromPrompt("What is the airspeed velocity of an unladen swallow?\n\nA. 11 m/s\nB. 24 mph");

        await using var stream = engine.GenerateAsync(request).GetAsyncEnumerator();
        var error = await Assert.ThrowsAsync<InvalidRequestException>(async () => await stream.MoveNextAsync());

        Assert.Contains("only answers recorded questions", error.Message);
    }

    [Fact]
    public async Task Questions_with_the_same_text_are_told_apart_by_their_options_and_wrong_options_are_refused()
    {
        var slot = data.Recording.Dataset.ModelIndex(Llama);
        var twins = data.Recording.Dataset.Questions
            .GroupBy(q => string.Join(' ', q.Question.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)))
            .Select(g => g.ToList())
            .First(g => g.Count >= 2 && g.Select(q => q.PredictionOf(slot)).Where(p => p is not null).Distinct().Count() >= 2
                        && g.Select(q => string.Join('|', q.Options)).Distinct().Count() == g.Count);
        await using var engine = await data.Provider(data.Rtx4090).LoadAsync(data.Manifest(Llama));

        foreach (var question in twins.Where(q => q.PredictionOf(slot) is not null))
        {
            var (text, _, _) = await ReplayPrompts.CollectAsync(engine.GenerateAsync(ReplayPrompts.Responder(question)));
            Assert.Equal($"The answer is ({question.PredictionOf(slot)}).", text);
        }

        var first = twins[0];
        var altered = new RecordedQuestion(first.QuestionId, first.Category, first.Source, first.Question, ["not an option of any recorded question", "nor this"], "A", []);
        var error = await Assert.ThrowsAsync<InvalidRequestException>(async () => await ReplayPrompts.CollectAsync(engine.GenerateAsync(ReplayPrompts.Responder(altered))));
        Assert.Contains("options are not", error.Message);
    }

    [Fact]
    public async Task The_question_alone_or_in_the_recordings_own_layout_is_matched_too()
    {
        var slot = data.Recording.Dataset.ModelIndex(Llama);
        var question = data.TestQuestions.First(q => q.PredictionOf(slot) is not null
            && data.Recording.Dataset.Questions.Count(o => o.Question == q.Question) == 1);
        await using var engine = await data.Provider(data.Rtx4090).LoadAsync(data.Manifest(Llama));

        foreach (var prompt in new[] { question.Question, question.PromptText, "  " + question.Question.Replace(" ", "\n ", StringComparison.Ordinal) + "\r\n" })
        {
            var (text, _, _) = await ReplayPrompts.CollectAsync(engine.GenerateAsync(GenerationRequest.FromPrompt(prompt)));
            Assert.Equal($"The answer is ({question.PredictionOf(slot)}).", text);
        }
    }

    [Fact]
    public async Task Time_scale_zero_answers_without_waiting_and_still_reports_the_real_runs_energy()
    {
        var clock = new ManualTimeProvider();
        var question = data.TestQuestions.First();
        await using var engine = await data.Provider(data.Jetson, clock).LoadAsync(data.Manifest("Mixtral-8x7B-Instruct-v0.1", timeScale: 0));

        // The clock never moves: a run that waited for it would never finish.
        var run = ReplayPrompts.CollectAsync(engine.GenerateAsync(ReplayPrompts.Responder(question)));
        var (_, metrics, _) = await run.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(0, metrics.TimeToFirstTokenMs);
        Assert.Equal(0, metrics.TotalMs);
        var predicted = Predict(data.Jetson, "Mixtral-8x7B-Instruct-v0.1", metrics.PromptTokens, metrics.GeneratedTokens);
        Assert.Equal(predicted.EnergyJoules, metrics.EnergyJoules!.Value, 9);
        Assert.True(metrics.EnergyJoules > 0);
    }

    [Fact]
    public async Task Time_scale_one_waits_the_predicted_prefill_before_the_first_chunk_and_the_decode_before_the_rest()
    {
        var clock = new ManualTimeProvider();
        var question = data.TestQuestions.Skip(3).First();
        await using var engine = await data.Provider(data.Jetson, clock).LoadAsync(data.Manifest("Phi-3-mini-4k-instruct", timeScale: 1));
        var prompt = (int)Math.Ceiling(question.PromptChars / 4.0) + 32;
        var predicted = Predict(data.Jetson, "Phi-3-mini-4k-instruct", prompt, 256);
        var prefill = TimeSpan.FromMilliseconds(predicted.PrefillMs);
        var decode = TimeSpan.FromMilliseconds(predicted.DecodeMs);
        Assert.True(decode > TimeSpan.FromSeconds(1), $"decode {decode}");

        await using var stream = engine.GenerateAsync(ReplayPrompts.Responder(question)).GetAsyncEnumerator();
        var first = stream.MoveNextAsync().AsTask();
        clock.Advance(prefill - TimeSpan.FromMilliseconds(1));
        Assert.False(first.IsCompleted, "the first chunk came before the prefill time");
        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(await first.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(ReplayTexts.ResponderOpening, stream.Current.Text);

        var last = stream.MoveNextAsync().AsTask();
        clock.Advance(decode - TimeSpan.FromMilliseconds(1));
        Assert.False(last.IsCompleted, "the answer came before the decode time");
        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(await last.WaitAsync(TimeSpan.FromSeconds(10)));
        var metrics = stream.Current.Metrics!;
        Assert.Equal(predicted.PrefillMs, metrics.TimeToFirstTokenMs, 6);
        Assert.Equal(predicted.PrefillMs + predicted.DecodeMs, metrics.TotalMs, 6);
        Assert.False(await stream.MoveNextAsync());
    }

    [Fact]
    public async Task A_time_scale_shortens_the_wait_but_not_the_energy()
    {
        var clock = new ManualTimeProvider();
        var question = data.TestQuestions.Skip(5).First();
        await using var engine = await data.Provider(data.Rtx4090, clock).LoadAsync(data.Manifest("Yi-34B", timeScale: 0.01));

        var run = ReplayPrompts.CollectAsync(engine.GenerateAsync(ReplayPrompts.Responder(question)));
        while (!run.IsCompleted)
        {
            clock.Advance(TimeSpan.FromMilliseconds(1));
            await Task.Yield();
        }

        var (_, metrics, _) = await run;
        var predicted = Predict(data.Rtx4090, "Yi-34B", metrics.PromptTokens, metrics.GeneratedTokens);
        Assert.Equal((predicted.PrefillMs + predicted.DecodeMs) * 0.01, metrics.TotalMs, 6);
        Assert.Equal(predicted.EnergyJoules, metrics.EnergyJoules!.Value, 9);
    }

    [Fact]
    public async Task Cancelling_stops_a_run_while_it_waits()
    {
        var clock = new ManualTimeProvider();
        var question = data.TestQuestions.First();
        await using var engine = await data.Provider(data.Jetson, clock).LoadAsync(data.Manifest("c4ai-command-r-v01", timeScale: 1));
        using var cancel = new CancellationTokenSource();

        await using var stream = engine.GenerateAsync(ReplayPrompts.Responder(question), cancel.Token).GetAsyncEnumerator();
        var pending = stream.MoveNextAsync().AsTask();
        Assert.False(pending.IsCompleted);
        Assert.Equal(1, clock.PendingTimers);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(0, clock.PendingTimers);
    }

    [Fact]
    public async Task An_aggregator_prompt_sides_with_a_panel_answer_that_is_its_own_and_otherwise_names_no_letter()
    {
        var model = "mathstral-7B";
        var slot = data.Recording.Dataset.ModelIndex(model);
        var question = data.TestQuestions.First(q => q.PredictionOf(slot) is "C" or "D" or "E");
        var own = question.PredictionOf(slot)!;
        var other = own == "A" ? "B" : "A";
        await using var engine = await data.Provider(data.Jetson).LoadAsync(data.Manifest(model));

        var (agrees, metrics, _) = await ReplayPrompts.CollectAsync(engine.GenerateAsync(ReplayPrompts.Aggregator(
            question, [("phi-3-mini-4k-instruct", $"The answer is ({other})."), ("yi-6b-chat", $"The answer is ({own}).")])));
        var (abstains, _, _) = await ReplayPrompts.CollectAsync(engine.GenerateAsync(ReplayPrompts.Aggregator(
            question, [("phi-3-mini-4k-instruct", $"The answer is ({other})."), ("yi-6b-chat", "The recorded run gave no answer.")])));

        Assert.Equal(own, ReplayTexts.LetterIn(agrees, question.Options.Count));
        Assert.Null(ReplayTexts.LetterIn(abstains, question.Options.Count));
        Assert.Equal((int)Math.Ceiling(question.PromptChars / 4.0) + 32 + (2 * 256), metrics.PromptTokens);
    }

    [Fact]
    public async Task Only_the_request_panel_makes_an_aggregator_not_the_prompt_wording()
    {
        var model = "mathstral-7B";
        var slot = data.Recording.Dataset.ModelIndex(model);
        var question = data.TestQuestions.First(q => q.PredictionOf(slot) is "C" or "D" or "E");
        var own = question.PredictionOf(slot)!;
        await using var engine = await data.Provider(data.Jetson).LoadAsync(data.Manifest(model));
        var worded = ReplayPrompts.Aggregator(question, [("phi-3-mini-4k-instruct", "The answer is (A).")]);

        // The same words without the structured panel are a responder's request: the model's own answer, no panel tokens.
        var (text, metrics, _) = await ReplayPrompts.CollectAsync(engine.GenerateAsync(worded with { Panel = null }));
        var (aggregated, _, _) = await ReplayPrompts.CollectAsync(engine.GenerateAsync(worded with { Panel = [new PanelAnswer("phi-3-mini-4k-instruct", own)] }));

        Assert.StartsWith(ReplayTexts.ResponderOpening, text, StringComparison.Ordinal);
        Assert.Equal(own, ReplayTexts.LetterIn(text, question.Options.Count));
        Assert.Equal((int)Math.Ceiling(question.PromptChars / 4.0) + 32, metrics.PromptTokens);
        Assert.StartsWith(ReplayTexts.AggregatorOpening, aggregated, StringComparison.Ordinal);
        Assert.Equal(own, ReplayTexts.LetterIn(aggregated, question.Options.Count));
    }

    [Fact]
    public async Task Max_tokens_below_the_answer_length_shortens_the_run_and_says_so()
    {
        var question = data.TestQuestions.First();
        await using var engine = await data.Provider(data.Rtx4090).LoadAsync(data.Manifest(Llama));

        var (_, full, _) = await ReplayPrompts.CollectAsync(engine.GenerateAsync(ReplayPrompts.Responder(question)));
        var (_, cut, _) = await ReplayPrompts.CollectAsync(engine.GenerateAsync(ReplayPrompts.Responder(question, maxTokens: 64)));

        Assert.Equal(64, cut.GeneratedTokens);
        Assert.Equal(FinishReason.MaxTokens, cut.FinishReason);
        Assert.True(cut.EnergyJoules < full.EnergyJoules);
    }

    [Fact]
    public async Task Concurrent_generations_each_get_their_own_question()
    {
        var slot = data.Recording.Dataset.ModelIndex(Llama);
        await using var engine = await data.Provider(data.Rtx4090).LoadAsync(data.Manifest(Llama));
        var questions = data.TestQuestions.Where(q => q.PredictionOf(slot) is not null).Take(200).ToList();

        var texts = await Task.WhenAll(questions.Select(q => Task.Run(async () => (await ReplayPrompts.CollectAsync(engine.GenerateAsync(ReplayPrompts.Responder(q)))).Text)));

        for (var i = 0; i < questions.Count; i++)
        {
            Assert.Equal($"The answer is ({questions[i].PredictionOf(slot)}).", texts[i]);
        }
    }

    [Fact]
    public async Task Experts_of_one_process_share_one_parsed_recording()
    {
        var recordings = new ReplayRecordings();
        var provider = new ReplayEngineProvider(new ReplayEngineOptions(), recordings, data.Jetson);

        await using var a = await provider.LoadAsync(data.Manifest("Yi-6b-Chat", path: data.DataFile));
        await using var b = await provider.LoadAsync(data.Manifest("Qwen1.5-7B-Chat", path: Path.GetDirectoryName(data.DataFile)));

        Assert.Equal(1, recordings.Count);
        Assert.Equal(data.DataFile, a.Manifest.ModelPath);
        Assert.Equal(data.DataFile, b.Manifest.ModelPath);
        Assert.True(a.ResidentBytes is > 0 and < 1_000_000);
    }

    [Fact]
    public async Task Load_failures_are_expert_unavailable_with_the_reason()
    {
        using var empty = new TemporaryDirectory();
        var provider = data.Provider(data.Rtx4090);

        var missing = await Assert.ThrowsAsync<ExpertUnavailableException>(() => provider.LoadAsync(data.Manifest(Llama, path: empty.File("nothing.jsonl.gz"))));
        Assert.Contains("do not exist", missing.Message);

        var noFile = await Assert.ThrowsAsync<ExpertUnavailableException>(() => provider.LoadAsync(data.Manifest(Llama, path: empty.Path)));
        Assert.Contains(ReplayRecording.DefaultFileName, noFile.Message);

        var unknown = await Assert.ThrowsAsync<ExpertUnavailableException>(() => provider.LoadAsync(data.Manifest(Llama) with { RecordedModel = "GPT-7" }));
        Assert.Contains("has no model 'GPT-7'", unknown.Message);
        Assert.Contains(Llama, unknown.Message);

        var unnamed = await Assert.ThrowsAsync<ExpertUnavailableException>(() => provider.LoadAsync(data.Manifest(Llama) with { RecordedModel = null }));
        Assert.Contains("names no recorded model", unnamed.Message);

        var badScale = await Assert.ThrowsAsync<ExpertUnavailableException>(() => provider.LoadAsync(data.Manifest(Llama) with
        {
            EngineOptions = new Dictionary<string, string> { ["time_scale"] = "-1", ["output_tokens"] = "lots" },
        }));
        Assert.Contains("'time_scale'", badScale.Message);
        Assert.Contains("'output_tokens'", badScale.Message);

        var noDevice = await Assert.ThrowsAsync<ExpertUnavailableException>(() => data.Provider(device: null).LoadAsync(data.Manifest(Llama)));
        Assert.Contains("device profile", noDevice.Message);

        var corrupt = empty.File("broken.jsonl.gz");
        await File.WriteAllBytesAsync(corrupt, [0x1f, 0x8b, 1, 2, 3]);
        var malformed = await Assert.ThrowsAsync<ExpertUnavailableException>(() => provider.LoadAsync(data.Manifest(Llama, path: corrupt)));
        Assert.Contains("broken.jsonl.gz", malformed.Message);
    }

    [Fact]
    public void Options_out_of_range_are_named()
    {
        var problems = ReplayEngineOptionsValidator.Problems(new ReplayEngineOptions { TimeScale = double.NaN, OutputTokens = 0, CharsPerToken = 0, DataPath = " " });

        Assert.Contains(problems, p => p.Contains("TimeScale", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("OutputTokens", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("CharsPerToken", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("DataPath", StringComparison.Ordinal));
        Assert.Empty(ReplayEngineOptionsValidator.Problems(new ReplayEngineOptions()));
    }

    [Fact]
    public async Task A_model_without_an_answer_to_the_question_is_unavailable_for_it()
    {
        var model = "gemini-1.5-pro-002";
        var slot = data.Recording.Dataset.ModelIndex(model);
        var question = data.Recording.Dataset.Questions.First(q => !q.TryGetAnswer(slot, out _));
        var manifest = new ExpertManifest { Id = "gemini", Engine = ExpertEngines.Replay, RecordedModel = model, ModelPath = data.DataFile };
        await using var engine = await data.Provider(Routing.Fitting.DeviceAssignment.CloudProfile).LoadAsync(manifest);

        var error = await Assert.ThrowsAsync<ExpertUnavailableException>(() => ReplayPrompts.CollectAsync(engine.GenerateAsync(ReplayPrompts.Responder(question))));
        Assert.Contains($"question {question.QuestionId}", error.Message);
    }

    private CostEstimate Predict(Devices.DeviceProfile device, string model, int promptTokens, int outputTokens)
    {
        RecordedModelCatalog.TryGet(model, out var catalogued);
        return ExpertCostModel.Roofline(ExpertCostProfile.FromManifest(catalogued.ToManifest()), device, new RequestShape(promptTokens, outputTokens), new CostModelOptions());
    }
}
