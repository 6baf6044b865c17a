using EdgeInference.Agent.Hosting;
using Microsoft.Extensions.Options;

var builder = WebApplication.CreateSlimBuilder(args);
builder.AddEdgeAgent(args);
var app = builder.Build();
app.MapEdgeAgent();
try
{
    await app.RunAsync();
    return 0;
}
catch (OptionsValidationException ex)
{
    await Console.Error.WriteLineAsync("edge-agent: " + string.Join(Environment.NewLine + "edge-agent: ", ex.Failures));
    return 2;
}
