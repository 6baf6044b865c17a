using EdgeInference.Testing;

namespace EdgeInference.Tests;

/// <summary>One in-process agent serving the real openWakeWord sample models, shared by a test class.</summary>
public sealed class SampleModelAgentFixture : IAsyncLifetime
{
    public AgentHost Agent { get; private set; } = null!;

    public async Task InitializeAsync() => Agent = await AgentHost.StartAsync(TestPaths.SampleModels);

    public async Task DisposeAsync() => await Agent.DisposeAsync();
}
