using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using MoeMesh.Devices;
using MoeMesh.Experts;
using MoeMesh.Generation;
using MoeMesh.Evaluation.Replay;
using MoeMesh.Routing.Data;

namespace MoeMesh.Evaluation.Tests.Replay;

/// <summary>
/// The recorded MMLU-Pro outputs, read once for every replay test (as a silo would), and the device
/// profiles of the repository. Both are found next to the repository as CI has them; a missing folder
/// fails the tests with a message saying what is missing.
/// </summary>
public sealed class ReplayDataFixture
{
    public ReplayDataFixture()
    {
        DataFile = Locate(Path.Combine("shared", "data", "mmlu-pro-29", ReplayRecording.DefaultFileName), "the recorded outputs");
        ProfilesFolder = Locate(Path.Combine("deploy", "profiles"), "the device profiles");
        Recordings = new ReplayRecordings();
        Recording = Recordings.GetAsync(DataFile).GetAwaiter().GetResult();
        Jetson = Profile("jetson-agx-orin-64gb");
        Rtx4090 = Profile("rtx-4090-desktop");
    }

    public string DataFile { get; }

    public string ProfilesFolder { get; }

    /// <summary>The shared cache the fixture's providers use; the recording is already read.</summary>
    public ReplayRecordings Recordings { get; }

    public ReplayRecording Recording { get; }

    public DeviceProfile Jetson { get; }

    public DeviceProfile Rtx4090 { get; }

    public IEnumerable<RecordedQuestion> TestQuestions => Recording.Dataset.Questions.Where(q => DataSplit.Default.IsHeldOut(q.QuestionId));

    public DeviceProfile Profile(string id)
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };
        return JsonSerializer.Deserialize<DeviceProfile>(File.ReadAllText(Path.Combine(ProfilesFolder, id + ".json")), options)
            ?? throw new InvalidDataException($"profile {id} is empty");
    }

    public ReplayEngineProvider Provider(DeviceProfile? device, TimeProvider? time = null, ReplayEngineOptions? options = null)
        => new(options ?? new ReplayEngineOptions(), Recordings, device, time);

    /// <summary>A replay manifest for a catalogued edge model, pointing at the recording's folder.</summary>
    public ExpertManifest Manifest(string model, double? timeScale = 0, string? path = null)
    {
        RecordedModelCatalog.TryGet(model, out var catalogued);
        var manifest = catalogued.ToManifest() with { RecordedModel = model, ModelPath = path ?? Path.GetDirectoryName(DataFile), EngineOptions = new Dictionary<string, string>() };
        return timeScale is { } scale
            ? manifest with { EngineOptions = new Dictionary<string, string> { ["time_scale"] = scale.ToString(System.Globalization.CultureInfo.InvariantCulture) } }
            : manifest;
    }

    private static string Locate(string relative, string what)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, relative);
            if (File.Exists(candidate) || Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException(
            $"{what} were not found: no '{relative}' above '{AppContext.BaseDirectory}'. " +
            "The replay tests need the repository's deploy folder and the shared data folder next to the repository (as in CI).");
    }
}

[CollectionDefinition(Name)]
public sealed class ReplayDataCollection : ICollectionFixture<ReplayDataFixture>
{
    public const string Name = "replay data";
}

/// <summary>Prompts as the router writes them (the same layout as the router's responder and aggregator prompts).</summary>
internal static class ReplayPrompts
{
    public static GenerationRequest Responder(RecordedQuestion question, int maxTokens = 256)
    {
        var text = new StringBuilder(question.Question).AppendLine().AppendLine();
        for (var i = 0; i < question.Options.Count; i++)
        {
            text.Append((char)('A' + i)).Append(". ").AppendLine(question.Options[i]);
        }

        text.AppendLine().Append("Answer with the letter of the correct option.");
        return new GenerationRequest { Messages = [ChatTurn.User(text.ToString())], MaxTokens = maxTokens, Sampling = SamplingOptions.Greedy };
    }

    public static GenerationRequest Aggregator(RecordedQuestion question, IReadOnlyList<(string Expert, string Text)> answers)
    {
        var text = new StringBuilder("Question: ").AppendLine(question.Question).AppendLine();
        for (var i = 0; i < question.Options.Count; i++)
        {
            text.Append((char)('A' + i)).Append(". ").AppendLine(question.Options[i]);
        }

        text.AppendLine().AppendLine("Expert answers:");
        for (var i = 0; i < answers.Count; i++)
        {
            text.Append('[').Append(i + 1).Append("] ").Append(answers[i].Expert).Append(": ").AppendLine(answers[i].Text);
        }

        text.AppendLine().Append("Write the final answer, ending with \"The answer is (X)\" where X is the letter of the correct option.");
        return new GenerationRequest
        {
            Messages = [ChatTurn.System("You aggregate."), ChatTurn.User(text.ToString())],
            Sampling = SamplingOptions.Greedy,
            Panel = [.. answers.Select(a => new PanelAnswer(a.Expert, ReplayTexts.LetterIn(a.Text, question.Options.Count)))],
        };
    }

    public static async Task<(string Text, GenerationMetrics Metrics, int Chunks)> CollectAsync(IAsyncEnumerable<GenerationChunk> stream)
    {
        var text = new StringBuilder();
        GenerationMetrics? metrics = null;
        var chunks = 0;
        await foreach (var chunk in stream)
        {
            chunks++;
            text.Append(chunk.Text);
            metrics ??= chunk.Metrics;
        }

        return (text.ToString(), metrics ?? throw new InvalidOperationException("the stream ended without metrics"), chunks);
    }
}

/// <summary>A clock that moves only when told; timers fire as it passes their due time.</summary>
internal sealed class ManualTimeProvider : TimeProvider
{
    private readonly Lock _gate = new();
    private readonly List<ManualTimer> _timers = [];
    private DateTimeOffset _now = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp()
    {
        lock (_gate)
        {
            return _now.UtcTicks;
        }
    }

    public override DateTimeOffset GetUtcNow()
    {
        lock (_gate)
        {
            return _now;
        }
    }

    /// <summary>Timers waiting to fire.</summary>
    public int PendingTimers
    {
        get
        {
            lock (_gate)
            {
                return _timers.Count(t => t.Due is not null);
            }
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new ManualTimer(this, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    public void Advance(TimeSpan by)
    {
        DateTimeOffset target;
        lock (_gate)
        {
            target = _now + by;
        }

        while (true)
        {
            ManualTimer? next;
            lock (_gate)
            {
                next = _timers.Where(t => t.Due is { } due && due <= target).MinBy(t => t.Due);
                if (next is null)
                {
                    _now = target;
                    return;
                }

                _now = next.Due!.Value;
                next.Due = null;
            }

            next.Fire();
        }
    }

    private sealed class ManualTimer(ManualTimeProvider clock, TimerCallback callback, object? state) : ITimer
    {
        public DateTimeOffset? Due { get; set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (clock._gate)
            {
                if (!clock._timers.Contains(this))
                {
                    clock._timers.Add(this);
                }

                Due = dueTime == Timeout.InfiniteTimeSpan ? null : clock._now + dueTime;
            }

            return true;
        }

        public void Fire() => callback(state);

        public void Dispose()
        {
            lock (clock._gate)
            {
                clock._timers.Remove(this);
            }
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
