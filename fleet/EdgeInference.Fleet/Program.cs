using EdgeInference.Fleet.Hosting;
using Microsoft.Extensions.Options;

var builder = WebApplication.CreateSlimBuilder(FleetHostingExtensions.HostArguments(args));
builder.AddFleet(args);
try
{
    var app = builder.Build();
    app.MapFleet();
    await app.RunAsync();
    return 0;
}
catch (OptionsValidationException ex)
{
    await Console.Error.WriteLineAsync("edge-fleet: " + string.Join(Environment.NewLine + "edge-fleet: ", ex.Failures));
    return 2;
}
