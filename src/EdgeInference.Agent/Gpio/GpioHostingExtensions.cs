using EdgeInference.Agent.PredictionLog;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace EdgeInference.Agent.Gpio;

/// <summary>Adds GPIO when a driver is configured: trigger pins (capture-and-infer) and output rules.</summary>
public static class GpioHostingExtensions
{
    public static WebApplicationBuilder AddGpio(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddOptions<GpioOptions>().Bind(builder.Configuration.GetSection(GpioOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<GpioOptions>, GpioOptionsValidator>();
        var driver = builder.Configuration[$"{GpioOptions.Section}:Driver"] ?? "none";
        if (driver == "none")
        {
            return builder;
        }

        services.AddSingleton(sp => sp.GetRequiredService<IOptions<GpioOptions>>().Value);
        if (driver == "simulated")
        {
            services.AddSingleton(sp => new SimulatedGpioDriver(sp.GetRequiredService<TimeProvider>()));
        }

        services.AddSingleton(sp => new GpioBoard(sp.GetRequiredService<GpioOptions>(), sp.GetService<SimulatedGpioDriver>()));
        if (builder.Configuration.GetSection($"{GpioOptions.Section}:Rules").GetChildren().Any())
        {
            services.AddSingleton<GpioOutputRules>();
            services.AddSingleton<IPredictionObserver>(sp => sp.GetRequiredService<GpioOutputRules>());
        }

        services.AddHostedService<GpioTriggerService>();
        return builder;
    }
}
