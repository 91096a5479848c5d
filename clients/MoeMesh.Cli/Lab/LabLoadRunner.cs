using System.Collections.Concurrent;
using MoeMesh.Client;
using MoeMesh.Generation;
using MoeMesh.Queries;
using MoeMesh.Routing.Data;

namespace MoeMesh.Cli.Lab;

/// <summary>
/// Sends recorded questions at a steady rate and watches the mesh's membership meanwhile; every
/// moment is taken in Unix seconds so it lines up with the marks the lab script writes.
/// </summary>
internal sealed class LabLoadRunner(IMoeMeshClient client, QueryOptions options, TimeSpan queryTimeout, TimeProvider time)
{
    private readonly ConcurrentQueue<MembershipSample> _samples = new();

    public IReadOnlyList<MembershipSample> Samples => [.. _samples.OrderBy(s => s.At)];

    public double Now => time.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0;

    /// <summary>Asks every question, <paramref name="rate"/> a second, each under its own timeout.</summary>
    public async Task<IReadOnlyList<LabQuery>> RunAsync(IReadOnlyList<RecordedQuestion> questions, double rate, IProgress<string> progress, CancellationToken cancellationToken)
    {
        var running = new List<Task<LabQuery>>(questions.Count);
        var interval = TimeSpan.FromSeconds(1 / rate);
        for (var i = 0; i < questions.Count; i++)
        {
            var question = questions[i];
            var id = $"lab-{i}-{Guid.NewGuid():N}";
            running.Add(Task.Run(() => AskAsync(question, id, cancellationToken), CancellationToken.None));
            if ((i + 1) % 10 == 0)
            {
                progress.Report($"sent {i + 1}/{questions.Count}");
            }

            await Task.Delay(interval, time, cancellationToken);
        }

        return await Task.WhenAll(running);
    }

    /// <summary>Samples how many silos the mesh lists as active, every <paramref name="period"/>, until cancelled.</summary>
    public async Task WatchAsync(TimeSpan period, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                attempt.CancelAfter(TimeSpan.FromSeconds(2));
                var snapshot = await client.GetStatusAsync(attempt.Token);
                _samples.Enqueue(new MembershipSample(Now, snapshot.Silos.Count(s => s.State == Catalog.SiloState.Active)));
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception)
            {
                // A sample that cannot be taken (its gateway cut off) is simply missing.
            }

            try
            {
                await Task.Delay(period, time, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task<LabQuery> AskAsync(RecordedQuestion question, string id, CancellationToken cancellationToken)
    {
        var sentAt = Now;
        var completions = 0;
        string? failure = null;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(queryTimeout);
        try
        {
            var query = new Query { Id = id, Messages = [ChatTurn.User(question.Question)], Choices = question.Options, Options = options };
            await foreach (var e in client.StreamAsync(query, timeout.Token))
            {
                if (e is QueryCompleted)
                {
                    completions++;
                }
            }

            if (completions == 0)
            {
                failure = "NoResult: the stream ended without a result";
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            failure = $"Timeout: no answer within {queryTimeout.TotalSeconds:0} s";
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            var root = ex.GetBaseException();
            failure = $"{root.GetType().Name}: {root.Message}";
        }

        return new LabQuery(sentAt, Now, completions, completions > 0 ? null : failure);
    }
}
