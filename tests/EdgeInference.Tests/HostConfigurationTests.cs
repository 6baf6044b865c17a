using EdgeInference.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EdgeInference.Tests;

/// <summary>
/// The hosts' own settings. Agent and fleet read appsettings.json once: reloading would put a recursive watcher on the
/// working directory, which under systemd is <c>/</c>.
/// </summary>
public sealed class HostConfigurationTests
{
    [Fact]
    public async Task FleetHost_ReadsItsSettingsFilesWithoutWatchingThem()
    {
        await using var fleet = await FleetHost.StartAsync();
        AssertReadWithoutWatching(fleet.App.Configuration);
    }

    [Fact]
    public Task AgentHost_ReadsItsSettingsFilesWithoutWatchingThem() =>
        WithAgentAsync(agent => AssertReadWithoutWatching(agent.App.Configuration));

    [Fact]
    public Task AgentHost_ByDefault_LeavesAspNetCoresPerRequestActivityAndLogScopeOff() =>
        WithAgentAsync(agent =>
        {
            // ASP.NET Core starts an Activity and a logging scope for every request when its hosting category logs at
            // any level (about 800 bytes a request); the agent's defaults turn the category off.
            var loggers = agent.App.Services.GetRequiredService<ILoggerFactory>();
            Assert.False(loggers.CreateLogger("Microsoft.AspNetCore.Hosting.Diagnostics").IsEnabled(LogLevel.Critical));
            Assert.True(loggers.CreateLogger("Microsoft.AspNetCore.Server.Kestrel").IsEnabled(LogLevel.Warning));
        });

    /// <summary>Runs <paramref name="check"/> on an agent started in this process over an empty model repository.</summary>
    private static async Task WithAgentAsync(Action<AgentHost> check)
    {
        var models = TestPaths.NewTempDirectory("models");
        try
        {
            await using var agent = await AgentHost.StartAsync(models);
            check(agent);
        }
        finally
        {
            Directory.Delete(models, recursive: true);
        }
    }

    private static void AssertReadWithoutWatching(IConfiguration configuration)
    {
        var files = ((IConfigurationRoot)configuration).Providers.OfType<FileConfigurationProvider>().ToList();
        Assert.Contains(files, f => f.Source.Path == "appsettings.json");
        Assert.All(files, f => Assert.False(f.Source.ReloadOnChange, $"{f.Source.Path} is watched for changes"));
    }
}
