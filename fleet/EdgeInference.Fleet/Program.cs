using EdgeInference.Fleet.Hosting;
using Microsoft.Extensions.Options;

// Without reloading, the host does not watch its working directory recursively for appsettings.json (from "/", as
// systemd starts services, that is every directory of the machine).
var builder = WebApplication.CreateSlimBuilder(["--hostBuilder:reloadConfigOnChange=false", .. args]);
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
