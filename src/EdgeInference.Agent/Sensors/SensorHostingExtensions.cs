using EdgeInference.Agent.Capture;
using EdgeInference.Agent.Sensors.Emulation;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace EdgeInference.Agent.Sensors;

/// <summary>Adds the configured sensors (polled for health and readings) and the interval triggers.</summary>
public static class SensorHostingExtensions
{
    public static WebApplicationBuilder AddSensors(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddOptions<SensorOptions>().Bind(builder.Configuration.GetSection(SensorOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<SensorOptions>, SensorOptionsValidator>();
        services.AddOptions<CaptureOptions>().Bind(builder.Configuration.GetSection(CaptureOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<CaptureOptions>, CaptureOptionsValidator>();
        services.TryAddSingleton<CaptureRunner>();
        if (builder.Configuration.GetSection($"{SensorOptions.Section}:Devices").GetChildren().Any())
        {
            services.AddSingleton(sp => sp.GetRequiredService<IOptions<SensorOptions>>().Value);
            services.TryAddSingleton<ISensorBus>(sp => sp.GetRequiredService<SensorOptions>() is { Bus: "emulated" } options
                ? EmulatedSensorBus.For(options)
                : new LinuxSensorBus());
            services.AddSingleton<SensorHub>();
            services.AddHostedService<SensorPollingService>();
        }

        if (builder.Configuration.GetSection($"{CaptureOptions.Section}:Intervals").GetChildren().Any())
        {
            services.AddSingleton(sp => sp.GetRequiredService<IOptions<CaptureOptions>>().Value);
            services.AddHostedService<IntervalTriggerService>();
        }

        return builder;
    }
}
