using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace EdgeInference.Fleet.Api;

/// <summary>
/// Turns the requests minimal APIs cannot bind (a body that is not the endpoint's JSON, a missing or unreadable
/// parameter) into the API's JSON errors naming the problem, instead of an empty 400.
/// </summary>
public static class BadRequestErrors
{
    public static IApplicationBuilder UseBadRequestErrors(this IApplicationBuilder app) =>
        app.Use(async (context, next) =>
        {
            try
            {
                await next(context).ConfigureAwait(false);
            }
            catch (BadHttpRequestException ex) when (!context.Response.HasStarted)
            {
                var message = ex.InnerException is JsonException json
                    ? $"the request body is not this call's JSON: {json.Message}"
                    : ex.Message;
                await FleetApi.Error(ex.StatusCode, message).ExecuteAsync(context).ConfigureAwait(false);
            }
        });
}
