using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Clustering.Redis;
using StackExchange.Redis;

namespace MoeMesh.Grains.Hosting.Clustering;

/// <summary>
/// Redis membership: configures Orleans' Redis clustering and, before the silo joins, checks that the
/// server answers. Without the check a wrong address either surfaces as a bare client error or, with
/// <c>abortConnect=false</c> in the string, as a silo that retries forever.
/// </summary>
internal sealed class RedisMembershipCheck(ConfigurationOptions options, TimeProvider time) : ILifecycleParticipant<ISiloLifecycle>
{
    /// <summary>
    /// Makes <paramref name="silo"/> keep its membership in the Redis server of the configured
    /// connection string, read when the options are resolved (the validator has parsed it by then).
    /// </summary>
    public static void Configure(ISiloBuilder silo)
    {
        silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => new RedisMembershipCheck(
            Parse(sp.GetRequiredService<IOptions<MoeMeshSiloOptions>>().Value.Clustering.ConnectionString),
            sp.GetService<TimeProvider>() ?? TimeProvider.System));
        silo.UseRedisClustering(_ => { });
        silo.Services.AddOptions<RedisClusteringOptions>()
            .Configure<IOptions<MoeMeshSiloOptions>>((redis, moeMesh) => redis.ConfigurationOptions = Parse(moeMesh.Value.Clustering.ConnectionString));
    }

    /// <summary>Parses a StackExchange.Redis configuration string, reporting a malformed one against the setting it came from.</summary>
    public static ConfigurationOptions Parse(string? connectionString)
    {
        var text = ClusteringStartup.Require(connectionString, ClusteringProvider.Redis);
        ConfigurationOptions options;
        try
        {
            options = ConfigurationOptions.Parse(text);
        }
        catch (ArgumentException ex)
        {
            throw new MoeMeshConfigurationException(
                $"{ClusteringStartup.ConnectionStringSetting} is not a valid Redis configuration string ({ex.Message}); expected e.g. \"redis.lan:6379,password=...\".",
                ex);
        }

        if (options.EndPoints.Count == 0)
        {
            throw new MoeMeshConfigurationException(
                $"{ClusteringStartup.ConnectionStringSetting} names no Redis server; expected e.g. \"redis.lan:6379,password=...\".");
        }

        return options;
    }

    public void Participate(ISiloLifecycle lifecycle)
        => lifecycle.Subscribe(nameof(RedisMembershipCheck), ServiceLifecycleStage.First, ct => CheckAsync(options, ct, time));

    /// <summary>Connects to the server and pings it, waiting at most <see cref="ClusteringStartup.Timeout"/>.</summary>
    /// <exception cref="MoeMeshConfigurationException">The server cannot be reached or refuses the login.</exception>
    public static async Task CheckAsync(ConfigurationOptions configured, CancellationToken cancellationToken, TimeProvider? time = null)
    {
        var target = $"Redis at {configured.ToString(includePassword: false)}";
        var options = configured.Clone();
        options.AbortOnConnectFail = true;
        time ??= TimeProvider.System;
        try
        {
            await using var connection = await ConnectionMultiplexer.ConnectAsync(options).WaitAsync(ClusteringStartup.Timeout, time, cancellationToken);
            await connection.GetDatabase().PingAsync().WaitAsync(ClusteringStartup.Timeout, time, cancellationToken);
        }
        catch (TimeoutException ex)
        {
            throw ClusteringStartup.Unreachable(ClusteringProvider.Redis, target, $"no answer within {ClusteringStartup.Timeout.TotalSeconds:0} s.", ex);
        }
        catch (RedisConnectionException ex)
        {
            // The client's own message is generic (and suggests retrying forever); the failure type is the news.
            var reason = ex.FailureType switch
            {
                ConnectionFailureType.AuthenticationFailure => "the server refused the login; check the user and password.",
                ConnectionFailureType.UnableToResolvePhysicalConnection or ConnectionFailureType.UnableToConnect => "no connection could be made.",
                _ => $"the connection failed ({ex.FailureType}).",
            };
            if (ex.InnerException is { } inner)
            {
                reason = $"{reason.TrimEnd('.')} ({FirstLine(inner.Message).TrimEnd('.')}).";
            }

            throw ClusteringStartup.Unreachable(ClusteringProvider.Redis, target, reason, ex);
        }
        catch (RedisException ex)
        {
            throw ClusteringStartup.Unreachable(ClusteringProvider.Redis, target, FirstLine(ex.Message), ex);
        }
    }

    private static string FirstLine(string text)
    {
        var line = text.Split('\n', 2)[0].Trim();
        return line.EndsWith('.') ? line : line + ".";
    }
}
