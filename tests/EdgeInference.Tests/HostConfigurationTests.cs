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
    public async Task AgentHost_ReadsItsSettingsFilesWithoutWatchingThem()
    {
        var models = TestPaths.NewTempDirectory("models");
        try
        {
            await using var agent = await AgentHost.StartAsync(models);
            AssertReadWithoutWatching(agent.App.Configuration);
        }
        finally
        {
            Directory.Delete(models, recursive: true);
        }
    }

    [Fact]
    public async Task AgentHost_ByDefault_LeavesAspNetCoresPerRequestActivityAndLogScopeOff()
    {
        var models = TestPaths.NewTempDirectory("models");
        try
        {
            await using var agent = await AgentHost.StartAsync(models);

            // ASP.NET Core starts an Activity and a logging scope for every request when its hosting category logs at
            // any level (about 800 bytes a request); the agent's defaults turn the category off.
            var hosting = agent.App.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Microsoft.AspNetCore.Hosting.Diagnostics");
            Assert.False(hosting.IsEnabled(LogLevel.Critical));
            Assert.True(agent.App.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Microsoft.AspNetCore.Server.Kestrel").IsEnabled(LogLevel.Warning));
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
