using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;

namespace EdgeInference.Testing;

/// <summary>
/// Debian's chromium, headless, driven through Debian's chromedriver (Selenium). Screenshots go to
/// <c>artifacts/screenshots</c>, kept as test artifacts.
/// </summary>
public sealed class HeadlessBrowser : IDisposable
{
    private const string Chromium = "/usr/bin/chromium";
    private const string ChromeDriver = "/usr/bin/chromedriver";

    private HeadlessBrowser(ChromeDriver driver)
    {
        Driver = driver;
    }

    public ChromeDriver Driver { get; }

    public static string ScreenshotFolder { get; } = Path.Combine(TestPaths.RepositoryRoot, "artifacts", "screenshots");

    /// <summary>Null when chromium or chromedriver is missing (the caller fails with that message).</summary>
    public static string? Missing() => !File.Exists(Chromium) ? Chromium : !File.Exists(ChromeDriver) ? ChromeDriver : null;

    public static HeadlessBrowser Start()
    {
        var options = new ChromeOptions { BinaryLocation = Chromium };
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1400,1000", "--no-first-run", "--disable-extensions");
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(ChromeDriver)!, Path.GetFileName(ChromeDriver));
        service.SuppressInitialDiagnosticInformation = true;
        service.HideCommandPromptWindow = true;
        return new HeadlessBrowser(new ChromeDriver(service, options, TimeSpan.FromSeconds(60)));
    }

    /// <summary>Waits until <paramref name="condition"/> holds, failing with <paramref name="what"/> and a screenshot.</summary>
    public T WaitFor<T>(Func<IWebDriver, T> condition, TimeSpan timeout, string what)
    {
        var wait = new WebDriverWait(Driver, timeout) { PollingInterval = TimeSpan.FromMilliseconds(100) };
        wait.IgnoreExceptionTypes(typeof(NoSuchElementException), typeof(StaleElementReferenceException));
        try
        {
            return wait.Until(condition);
        }
        catch (WebDriverTimeoutException ex)
        {
            var shot = Screenshot("timeout-" + string.Concat(what.Where(char.IsLetterOrDigit)));
            throw new TimeoutException($"the dashboard never showed {what} within {timeout.TotalSeconds:0} s (screenshot {shot})", ex);
        }
    }

    /// <summary>
    /// Clicks the element <paramref name="by"/> finds, finding it again if the page redrew it in between (the
    /// dashboard redraws live on the fleet's events, which makes an element found a moment ago stale). With
    /// <paramref name="until"/>, clicks again until it holds: a redraw during the click can swallow it.
    /// </summary>
    public void Click(By by, string what, Func<IWebDriver, bool>? until = null) =>
        WaitFor(d =>
        {
            if (until?.Invoke(d) == true)
            {
                return true;
            }

            d.FindElement(by).Click();
            return until is null;
        }, TimeSpan.FromSeconds(10), what);

    public string Screenshot(string name)
    {
        Directory.CreateDirectory(ScreenshotFolder);
        var path = Path.Combine(ScreenshotFolder, name + ".png");
        Driver.GetScreenshot().SaveAsFile(path);
        return path;
    }

    public void Dispose()
    {
        Driver.Quit();
        Driver.Dispose();
    }
}
