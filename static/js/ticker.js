// A worker's clock for the studio's composition: a page's own timers and animation frames slow
// to one a second or stop while its tab is hidden, a worker's do not, and the programme must
// keep its frame rate whichever tab the operator looks at. Message: the interval in ms (0 stops).

let timer = 0;
self.onmessage = (ev) => {
  clearInterval(timer);
  const ms = Number(ev.data);
  if (ms > 0) timer = setInterval(() => self.postMessage(0), ms);
};
