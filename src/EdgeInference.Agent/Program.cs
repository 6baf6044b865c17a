using EdgeInference.Agent.Drift;
using EdgeInference.Agent.Hosting;
using EdgeInference.Agent.Updates;
using Microsoft.Extensions.Options;

if (args is ["profile", ..])
{
    return await ProfileCommand.RunAsync(args[1..], Console.Out, Console.Error, CancellationToken.None);
}

if (args is ["install", ..])
{
    return await InstallCommand.RunAsync(args[1..], Console.Out, Console.Error, TimeProvider.System, CancellationToken.None);
}

var builder = WebApplication.CreateSlimBuilder(AgentHostingExtensions.HostArguments(args));
builder.AddEdgeAgent(args);
try
{
    var app = builder.Build();
    app.MapEdgeAgent();
    await app.RunAsync();
    return 0;
}
catch (OptionsValidationException ex)
{
    await Console.Error.WriteLineAsync("edge-agent: " + string.Join(Environment.NewLine + "edge-agent: ", ex.Failures));
    return 2;
}
